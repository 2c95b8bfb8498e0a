"""Host-agnostic completion engine: no Jupyter imports here."""

from .backends import Backend, LlamaCppBackend, OllamaBackend, OpenAIBackend
from .completer import InlineCompleter
from .errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    InlineError,
    ModelNotFound,
    Unsupported,
)
from .http import aclose_clients
from .models import (
    BackendSettings,
    CellText,
    CompletionRequest,
    ContextBudget,
    FimPrompt,
    GenerationSettings,
    KernelVariable,
    Sampling,
    SuggestionUpdate,
)

__all__ = [
    "AuthenticationFailed", "Backend", "BackendError", "BackendSettings", "BackendTimeout",
    "BackendUnavailable", "BadResponse", "CellText", "CompletionRequest", "ContextBudget",
    "FimPrompt", "GenerationSettings", "InlineCompleter", "InlineError", "KernelVariable",
    "LlamaCppBackend",
    "ModelNotFound", "OllamaBackend", "OpenAIBackend", "Sampling", "SuggestionUpdate",
    "Unsupported", "aclose_clients",
]  # fmt: skip
