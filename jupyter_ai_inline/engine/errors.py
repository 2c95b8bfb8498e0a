"""Errors users can read: every backend failure becomes one of these."""

from __future__ import annotations


class InlineError(Exception):
    """Base of all engine errors; `title` is what the user sees."""

    kind = "InlineError"

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail


class BackendUnavailable(InlineError):
    """The model server cannot be reached."""

    kind = "BackendUnavailable"


class AuthenticationFailed(InlineError):
    """The server refused the credentials (401/403)."""

    kind = "AuthenticationFailed"


class ModelNotFound(InlineError):
    """The server does not know the model (404)."""

    kind = "ModelNotFound"


class BackendTimeout(InlineError):
    """The server took too long to connect or to send the next token."""

    kind = "BackendTimeout"


class BadResponse(InlineError):
    """The server answered with something that is not a valid stream."""

    kind = "BadResponse"


class BackendError(InlineError):
    """Any other error status from the server."""

    kind = "BackendError"


class Unsupported(InlineError):
    """The server lacks an endpoint or parameter (used to choose a fallback)."""

    kind = "Unsupported"


def redact(text: str, *secrets: str | None) -> str:
    """Remove every secret from text shown to users or written to logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
