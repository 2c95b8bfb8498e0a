"""Which model serves the browser: Jupyter AI 2's choice when it is one of ours, else
the browser's settings over the server's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..engine.backends import BACKENDS
from ..engine.config import BackendName, ModelConfig

if TYPE_CHECKING:
    from .app import JupyterAIInline

Source = Literal["jupyter-ai", "settings"]


MAX_CONTEXT_CHARS = 100_000


def _valid_base_url(value: str | None) -> str | None:
    """An http(s) URL with a host, or a readable ValueError."""
    if value is None:
        return None
    if len(value) > 2048 or any(ord(char) < 32 for char in value):
        raise ValueError("not a URL (too long, or control characters)")
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("not an http(s) URL with a host, e.g. http://localhost:11434")
    return value


class ClientSettings(BaseModel):
    """The browser's settings (Settings Editor); `None` means the server's default."""

    model_config = ConfigDict(extra="ignore")

    backend: BackendName | None = None
    baseUrl: Annotated[str | None, AfterValidator(_valid_base_url)] = None
    model: Annotated[str | None, Field(max_length=256, pattern=r"^[^\x00-\x1f]*$")] = None
    suggestions: Annotated[int | None, Field(ge=1, le=5)] = None
    maxTokens: Annotated[int | None, Field(ge=1, le=4096)] = None
    contextAboveChars: Annotated[int | None, Field(ge=0, le=MAX_CONTEXT_CHARS)] = None
    contextBelowChars: Annotated[int | None, Field(ge=0, le=MAX_CONTEXT_CHARS)] = None

    @classmethod
    def parse(cls, settings: Any) -> tuple[ClientSettings, list[str]]:
        """The valid fields of what the browser sent, and one readable line per field
        left out (its server default applies instead)."""
        if not isinstance(settings, dict):
            return cls(), ["settings: not an object"]
        try:
            return cls.model_validate(settings), []
        except ValidationError as error:
            problems = {
                str(issue["loc"][0]): f"{issue['loc'][0]}: {issue['msg']}"
                for issue in error.errors()
                if issue["loc"]
            }
        valid = {key: value for key, value in settings.items() if key not in problems}
        return cls.model_validate(valid), list(problems.values())

    @property
    def chooses_server(self) -> bool:
        """Whether these settings pick the model server or model (not only sizes)."""
        return any(value is not None for value in (self.backend, self.baseUrl, self.model))

    def sizes_only(self) -> ClientSettings:
        return self.model_copy(update={"backend": None, "baseUrl": None, "model": None})


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
            config = model_config(app, {**app.deadlines(), **chosen})
            if config.api_key is None:  # none in Jupyter AI's own key store
                config.api_key = key_for(app, config)
            return config, "jupyter-ai"

    def pick(browser: Any, server: Any) -> Any:
        return server if browser is None else browser

    backend = pick(client.backend, app.backend)
    fields = {
        "backend": backend,
        "model": pick(client.model, app.model),
        "base_url": pick(client.baseUrl, app.base_url) or None,
        "suggestions": pick(client.suggestions, app.suggestions),
        "max_tokens": pick(client.maxTokens, app.max_tokens),
        "context_above_chars": pick(client.contextAboveChars, app.context_above_chars),
        "context_below_chars": pick(client.contextBelowChars, app.context_below_chars),
        "include_outputs": app.include_outputs,
        **app.deadlines(),
    }
    config = model_config(app, fields)
    config.api_key = key_for(app, config)
    return config, "settings"


def key_for(app: JupyterAIInline, config: ModelConfig) -> SecretStr | None:
    """The administrator's API key, for the model server they configured it with (their
    `base_url`, or their backend's default) and nowhere else: a URL a browser chose gets none."""
    server_url = app.base_url or BACKENDS[app.backend].default_base_url
    same_server = (config.backend, config.base_url) == (app.backend, server_url)
    return app.api_key_secret() if same_server else None


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
