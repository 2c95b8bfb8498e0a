"""One model configuration, whichever host it comes from, and the completer it makes."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, field_validator, model_validator

from .backends import BACKENDS
from .completer import InlineCompleter
from .models import BackendSettings, ContextBudget, GenerationSettings

BackendName = Literal["ollama", "llamacpp", "openai"]
API_KEY_ENV = {"openai": "OPENAI_API_KEY"}


def _clamp(value: Any, low: int, high: int, default: int) -> int:
    return default if value in (None, "") else min(max(int(value), low), high)


class ModelConfig(BaseModel):
    """Which server and model to ask, and how much; `None` means the default."""

    backend: BackendName
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    suggestions: int = 1
    max_tokens: int = 128
    context_above_chars: int = 6000
    context_below_chars: int = 2000
    include_outputs: bool = False

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
        if self.api_key is None and self.backend in API_KEY_ENV:
            key = os.environ.get(API_KEY_ENV[self.backend])
            self.api_key = SecretStr(key) if key else None
        return self

    @property
    def label(self) -> str:
        """The id users know: `inline-ollama:qwen2.5-coder:1.5b`."""
        return f"inline-{self.backend}:{self.model}"

    def completer(self) -> InlineCompleter:
        backend = BACKENDS[self.backend](
            BackendSettings(base_url=self.base_url or "", model=self.model, api_key=self.api_key)
        )
        return InlineCompleter(
            backend,
            GenerationSettings(suggestions=self.suggestions, max_tokens=self.max_tokens),
            ContextBudget(
                above_chars=self.context_above_chars,
                below_chars=self.context_below_chars,
                include_outputs=self.include_outputs,
            ),
        )
