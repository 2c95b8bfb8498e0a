"""Errors users can read: every failure of a suggestion becomes one of these.

    InlineError                 title: one readable line; kind: the wire `type`
    ├── BackendUnavailable      the model server cannot be reached
    ├── AuthenticationFailed    it refused the credentials (401/403)
    ├── ModelNotFound           it does not know the model
    ├── BackendTimeout          no first text, or a stall, past its deadline
    ├── BackendBusy             it is overloaded (429/503) or our pool to it is full
    ├── BadResponse             it answered with something that is not a valid stream
    ├── BackendError            any other error status from it
    ├── Unsupported             it lacks an endpoint or parameter (chooses a fallback)
    ├── ServerBusy              this Jupyter server runs its most generations at once
    ├── ServerError             an unexpected failure of this Jupyter server (see its log)
    ├── LocalModelUnavailable   the managed local model failed, or is still starting
    │   └── ModelFileError      its model file is missing or not a GGUF file (local/)
    └── BadMessage              a message the websocket cannot take (an `error` reply)
        ├── MessageTooLarge
        ├── TooManyRequests
        └── BadSettings         a `configure` field left out (its default applies)

Text a model server sent goes into a title or detail only through `server_text`: secrets
redacted first, then one line, then cut. Credentials in a URL (`http://user:pass@host`) never
reach a title or detail, whatever put them there.
"""

from __future__ import annotations

import html
import re

TITLE_CHARS = 300
"""The longest title; longer ones are cut with an ellipsis."""


class InlineError(Exception):
    """Base of all engine errors; `title` is what the user sees (one line)."""

    kind = "InlineError"

    def __init__(self, title: str, detail: str = "") -> None:
        title = cut(one_line(without_userinfo(title)), TITLE_CHARS)
        super().__init__(title)
        self.title = title
        self.detail = without_userinfo(detail)


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
    """No text before the first-text deadline, or none for the stall deadline."""

    kind = "BackendTimeout"


class BackendBusy(InlineError):
    """The model server is overloaded (429/503), or every pooled connection to it is busy."""

    kind = "BackendBusy"

    def __init__(
        self, title: str, detail: str = "", *, overloaded: bool = False, retry_after: float = 0
    ) -> None:
        super().__init__(title, detail)
        self.overloaded = overloaded
        """The model server said so (429/503): ask it again only after a pause."""
        self.retry_after = retry_after
        """Its `Retry-After`, in seconds (0: none)."""


class BadResponse(InlineError):
    """The server answered with something that is not a valid stream."""

    kind = "BadResponse"


class BackendError(InlineError):
    """Any other error status from the server."""

    kind = "BackendError"


class Unsupported(InlineError):
    """The server lacks an endpoint or parameter (used to choose a fallback)."""

    kind = "Unsupported"


class ServerBusy(InlineError):
    """This Jupyter server already runs as many generations as it allows."""

    kind = "ServerBusy"


class ServerError(InlineError):
    """An unexpected failure of this Jupyter server (its log has the traceback)."""

    kind = "ServerError"


class LocalModelUnavailable(InlineError):
    """The managed local model server cannot serve: it failed, or is still starting."""

    kind = "LocalModelUnavailable"


class BadMessage(InlineError):
    """A websocket message the server cannot take."""

    kind = "BadMessage"


class MessageTooLarge(BadMessage):
    kind = "MessageTooLarge"


class TooManyRequests(BadMessage):
    kind = "TooManyRequests"


class BadSettings(BadMessage):
    kind = "BadSettings"


# -- text from model servers -----------------------------------------------------------------

PARTIAL_SECRET_CHARS = 6
"""A piece of a secret this long or longer is redacted too (a server may cut it)."""
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)[\w.~+/=-]{4,}")
_NAMED_CREDENTIAL = re.compile(
    r"(?i)\b(api[-_ ]?key|x-api-key|authorization|password|secret|token)"
    r"([\"']?\s*[:=]\s*[\"']?)(?!(?:bearer|basic)\b)[^\s\"',;]{4,}"
)
_KEY_SHAPE = re.compile(r"\b(?:sk|pk|rk)-[\w-]{6,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,15}://)[^\s/?#@]{1,512}@")
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SKIPPED_ELEMENTS = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
REDACTED = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Remove every secret from text shown to users or written to logs: the secrets
    themselves, their starts and ends (a server may have cut them), and anything shaped
    like a credential (`Bearer …`, `api_key=…`, `sk-…`, a URL's `user:pass@`)."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        for size in range(len(secret) - 1, PARTIAL_SECRET_CHARS - 1, -1):
            text = text.replace(secret[:size], REDACTED).replace(secret[-size:], REDACTED)
    text = _SCHEME_CREDENTIAL.sub(rf"\1\2{REDACTED}", without_userinfo(text))
    text = _NAMED_CREDENTIAL.sub(rf"\1\2{REDACTED}", text)
    return _KEY_SHAPE.sub(REDACTED, text)


def without_userinfo(text: str) -> str:
    """`text` with the user and password of every URL in it redacted
    (`http://user:pass@host` becomes `http://***@host`): for titles and logs."""
    return _URL_USERINFO.sub(rf"\1{REDACTED}@", text)


def one_line(text: str) -> str:
    """Text as one readable line: an HTML page becomes its title (or its text), all
    white space runs become one space."""
    if "<" in text and ">" in text:
        title = _TITLE_TAG.search(text)
        text = title.group(1) if title else _TAG.sub(" ", _SKIPPED_ELEMENTS.sub(" ", text))
        text = html.unescape(text)
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def server_text(text: str, secrets: tuple[str | None, ...] = (), limit: int = 200) -> str:
    """What a model server sent, fit for a title: redacted, then one line, then cut."""
    return cut(one_line(redact(text, *secrets)), limit)
