"""One module per model server kind."""

from .base import Backend
from .llamacpp import LlamaCppBackend
from .ollama import OllamaBackend
from .openai import OpenAIBackend

BACKENDS: dict[str, type[Backend]] = {
    "ollama": OllamaBackend,
    "llamacpp": LlamaCppBackend,
    "openai": OpenAIBackend,
}

__all__ = ["BACKENDS", "Backend", "LlamaCppBackend", "OllamaBackend", "OpenAIBackend"]
