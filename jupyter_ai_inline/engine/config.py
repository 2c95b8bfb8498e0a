"""One model configuration, whichever host it comes from, and the completer it makes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, SecretStr, field_validator, model_validator

from .backends import BACKENDS
from .completer import InlineCompleter
from .fim import AUTO, check_setting
from .limits import GenerationLimit
from .models import BackendSettings, ContextBudget, GenerationSettings, LayoutSetting

BackendName = Literal["ollama", "llamacpp", "openai"]


def _clamp(value: Any, low: int, high: int, default: int) -> int:
    return default if value in (None, "") else min(max(int(value), low), high)


class RequestSizes(BaseModel):
    """How much a request asks for and how long it may take (shared with the hosts'
    settings, which set these fields by the same names)."""

    suggestions: int = 1
    max_tokens: int = 128
    context_above_chars: int = 6000
    context_below_chars: int = 2000
    context_variables_chars: int = 1500
    include_outputs: bool = False
    first_text_timeout: float = 15.0
    stall_timeout: float = 5.0
    fim_template: str = AUTO
    """`auto` (the family from the model id), `none`, or a family of `engine.fim.TEMPLATES`:
    the raw FIM prompt for servers that take no `suffix`."""
    prompt_layout: LayoutSetting = "auto"
    """How the prompt lays out the other cells: `cells`, `file` or `auto` (`FimPrompt`)."""

    @field_validator("fim_template", mode="before")
    @classmethod
    def _fim_template(cls, value: Any) -> str:
        return check_setting(str(value or AUTO))

    def deadlines(self) -> dict[str, float]:
        return {"first_text_timeout": self.first_text_timeout, "stall_timeout": self.stall_timeout}


class ModelConfig(RequestSizes):
    """Which server and model to ask, and how much; `None` means the default."""

    backend: BackendName
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = None

    @field_validator("suggestions", mode="before")
    @classmethod
    def _suggestions(cls, value: Any) -> int:
        return _clamp(value, 1, 5, 1)

    @field_validator("max_tokens", mode="before")
    @classmethod
    def _max_tokens(cls, value: Any) -> int:
        return _clamp(value, 1, 4096, 128)

    @model_validator(mode="after")
    def _defaults(self) -> ModelConfig:
        if not self.base_url:
            self.base_url = BACKENDS[self.backend].default_base_url
        return self

    @property
    def label(self) -> str:
        """The id users know: `inline-ollama:qwen2.5-coder:1.5b`."""
        return f"inline-{self.backend}:{self.model}"

    def completer(self, limit: GenerationLimit | None = None) -> InlineCompleter:
        backend = BACKENDS[self.backend](
            BackendSettings(
                base_url=self.base_url or "",
                model=self.model,
                api_key=self.api_key,
                first_text_timeout=self.first_text_timeout,
                stall_timeout=self.stall_timeout,
                fim_template=self.fim_template,
                prompt_layout=self.prompt_layout,
            )
        )
        return InlineCompleter(
            backend,
            GenerationSettings(suggestions=self.suggestions, max_tokens=self.max_tokens),
            ContextBudget(
                above_chars=self.context_above_chars,
                below_chars=self.context_below_chars,
                variables_chars=self.context_variables_chars,
                include_outputs=self.include_outputs,
            ),
            limit,
        )
