"""What the choice of a model is made from: the administrator's settings, the browser's
settings (checked field by field) and Jupyter AI 2's completions model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..engine.backends import BACKENDS
from ..engine.config import BackendName, ModelConfig, RequestSizes

Source = Literal["jupyter-ai", "settings"]


class AdminSettings(RequestSizes):
    """The administrator's settings (`c.JupyterAIInline.*`) that a request needs."""

    backend: BackendName = "ollama"
    base_url: str = ""
    model: str = "qwen2.5-coder:1.5b"
    api_key: SecretStr | None = None
    use_jupyter_ai_model: bool = True
    max_message_bytes: int = 1_000_000
    max_requests_in_flight: int = 8
    warm_up: Literal["auto", "on", "off"] = "auto"
    budget_chosen: bool = False
    """`context_above_chars` or `context_below_chars` was configured: the managed model's
    budget does not replace it."""

    @property
    def server_url(self) -> str:
        """The model server the administrator configured (or their backend's default)."""
        return self.base_url or BACKENDS[self.backend].default_base_url


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


def jupyter_ai_model_id(web_settings: Mapping[str, Any]) -> str | None:
    """Jupyter AI 2's inline completions model as `provider:model`, if it is one of ours."""
    manager = web_settings.get("jai_config_manager")
    if manager is None:
        return None
    provider = manager.completions_lm_provider
    params = manager.completions_lm_provider_params
    backend = str(getattr(provider, "id", "")).removeprefix("inline-")
    if not params or backend not in BACKENDS:
        return None
    return f"inline-{backend}:{params['model_id']}"


def jupyter_ai_fields(web_settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fields of Jupyter AI 2's inline completions model, if it is one of ours."""
    global_id = jupyter_ai_model_id(web_settings)
    if global_id is None:
        return None
    provider_id, model_id = global_id.split(":", 1)
    params = web_settings["jai_config_manager"].completions_lm_provider_params
    overrides = web_settings.get("model_parameters", {}).get(global_id, {})
    fields = {key: value for key, value in {**params, **overrides}.items() if value is not None}
    return {**fields, "backend": provider_id.removeprefix("inline-"), "model": model_id}


def status_message(
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
