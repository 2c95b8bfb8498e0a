"""One module per model server kind."""

from .base import Backend
from .llamacpp import LlamaCppBackend
from .ollama import OllamaBackend
from .openai import OpenAIBackend

__all__ = ["Backend", "LlamaCppBackend", "OllamaBackend", "OpenAIBackend"]
