"""Which model serves the browser: Jupyter AI 2's choice when it is one of ours, else
the browser's settings over the server's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from ..engine.backends import BACKENDS
from ..engine.config import BackendName, ModelConfig

if TYPE_CHECKING:
    from .app import JupyterAIInline

Source = Literal["jupyter-ai", "settings"]


class ClientSettings(BaseModel):
    """The browser's settings (Settings Editor); `None` means the server's default."""

    model_config = ConfigDict(extra="ignore")

    backend: BackendName | None = None
    baseUrl: str | None = None
    model: str | None = None
    suggestions: int | None = None
    maxTokens: int | None = None
    contextAboveChars: int | None = None
    contextBelowChars: int | None = None


def jupyter_ai_fields(web_settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """Jupyter AI 2's inline completions model, if it is one of our providers."""
    manager = web_settings.get("jai_config_manager")
    if manager is None:
        return None
    provider = manager.completions_lm_provider
    params = manager.completions_lm_provider_params
    backend = str(getattr(provider, "id", "")).removeprefix("inline-")
    if not params or backend not in BACKENDS:
        return None
    model_id = params["model_id"]
    overrides = web_settings.get("model_parameters", {}).get(f"inline-{backend}:{model_id}", {})
    fields = {key: value for key, value in {**params, **overrides}.items() if value is not None}
    return {**fields, "backend": backend, "model": model_id}


def uses_local_model(app: JupyterAIInline, fields: Mapping[str, Any]) -> bool:
    """A llama.cpp model without a base URL is served by the managed local server."""
    return app.local is not None and fields["backend"] == "llamacpp" and not fields["base_url"]


def model_config(app: JupyterAIInline, fields: dict[str, Any]) -> ModelConfig:
    fields.setdefault("base_url", None)
    if uses_local_model(app, fields):
        assert app.local is not None
        fields.update(base_url=app.local.base_url, model=app.local.model_name)
    return ModelConfig.model_validate(fields)


def choose_model(
    app: JupyterAIInline, web_settings: Mapping[str, Any], client: ClientSettings
) -> tuple[ModelConfig, Source]:
    if app.use_jupyter_ai_model:
        try:
            chosen = jupyter_ai_fields(web_settings)
        except Exception:  # a broken Jupyter AI config must not stop our completions
            app.log.warning("Could not read Jupyter AI's completions model", exc_info=True)
            chosen = None
        if chosen is not None:
            return model_config(app, chosen), "jupyter-ai"

    def pick(browser: Any, server: Any) -> Any:
        return server if browser is None else browser

    fields = {
        "backend": pick(client.backend, app.backend),
        "model": pick(client.model, app.model),
        "base_url": pick(client.baseUrl, app.base_url) or None,
        "api_key": app.api_key,
        "suggestions": pick(client.suggestions, app.suggestions),
        "max_tokens": pick(client.maxTokens, app.max_tokens),
        "context_above_chars": pick(client.contextAboveChars, app.context_above_chars),
        "context_below_chars": pick(client.contextBelowChars, app.context_below_chars),
        "include_outputs": app.include_outputs,
    }
    return model_config(app, fields), "settings"


def is_local(app: JupyterAIInline, config: ModelConfig) -> bool:
    return app.local is not None and config.base_url == app.local.base_url


def status(
    config: ModelConfig, source: Source, mode: str | None, local: dict[str, Any] | None
) -> dict[str, Any]:
    """What the status bar shows: never the API key, nor credentials in the URL.
    `mode`: llama.cpp's infill or completion, once known; `local`: the managed server's
    state when it serves this model."""
    url = httpx.URL(config.base_url or "")
    return {
        "type": "status",
        "model": config.label,
        "backend": config.backend,
        "base_url": str(url.copy_with(username=None, password=None)),
        "source": source,
        "suggestions": config.suggestions,
        "mode": mode,
        "local": local,
    }
