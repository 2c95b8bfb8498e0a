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


def jupyter_ai_model(web_settings: Mapping[str, Any]) -> ModelConfig | None:
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
    return ModelConfig(backend=backend, model=model_id, **fields)


def choose_model(
    app: JupyterAIInline, web_settings: Mapping[str, Any], client: ClientSettings
) -> tuple[ModelConfig, Source]:
    if app.use_jupyter_ai_model:
        try:
            chosen = jupyter_ai_model(web_settings)
        except Exception:  # a broken Jupyter AI config must not stop our completions
            app.log.warning("Could not read Jupyter AI's completions model", exc_info=True)
            chosen = None
        if chosen is not None:
            return chosen, "jupyter-ai"

    def pick(browser: Any, server: Any) -> Any:
        return server if browser is None else browser

    config = ModelConfig(
        backend=pick(client.backend, app.backend),
        model=pick(client.model, app.model),
        base_url=pick(client.baseUrl, app.base_url) or None,
        api_key=app.api_key,
        suggestions=pick(client.suggestions, app.suggestions),
        max_tokens=pick(client.maxTokens, app.max_tokens),
        context_above_chars=pick(client.contextAboveChars, app.context_above_chars),
        context_below_chars=pick(client.contextBelowChars, app.context_below_chars),
        include_outputs=app.include_outputs,
    )
    return config, "settings"


def status(config: ModelConfig, source: Source) -> dict[str, Any]:
    """What the status bar shows: never the API key, nor credentials in the URL."""
    url = httpx.URL(config.base_url or "")
    return {
        "type": "status",
        "model": config.label,
        "backend": config.backend,
        "base_url": str(url.copy_with(username=None, password=None)),
        "source": source,
        "suggestions": config.suggestions,
    }
