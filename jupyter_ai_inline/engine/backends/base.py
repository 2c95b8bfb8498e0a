"""What every backend shares: the HTTP stream, status and transport errors."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import httpx
from httpx_sse import SSEError

from ..errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    InlineError,
    ModelNotFound,
    Unsupported,
    redact,
)
from ..http import get_client
from ..models import BackendSettings, FimPrompt, Sampling

MAX_ERROR_BODY = 4096


class Backend(ABC):
    """A model server that streams the text for a fill-in-the-middle prompt."""

    label: ClassVar[str]
    """User-facing name of the server kind, used in error titles."""
    default_base_url: ClassVar[str]

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")

    @abstractmethod
    def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        """Yield the generated text piece by piece; closing it stops the generation."""

    @property
    def client(self) -> httpx.AsyncClient:
        return get_client(
            self.base_url,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
        )

    @property
    def _api_key(self) -> str | None:
        key = self.settings.api_key
        return key.get_secret_value() if key else None

    def headers(self) -> dict[str, str]:
        return {}

    @asynccontextmanager
    async def post_stream(
        self, path: str, payload: dict[str, Any]
    ) -> AsyncIterator[httpx.Response]:
        """POST and hold the streamed response open; leaving the block closes it."""
        try:
            url = f"{self.base_url}{path}"
            request = self.client.build_request("POST", url, json=payload, headers=self.headers())
            response = await self.send(request)
            try:
                if response.status_code >= 400:
                    body = await _read_bounded(response)
                    raise self.status_error(response.status_code, body)
                yield response
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            phase = "connect to" if isinstance(exc, httpx.ConnectTimeout) else "get an answer from"
            raise BackendTimeout(
                f"Timed out trying to {phase} {self.label} at {self.base_url}"
            ) from None
        except httpx.ConnectError:
            raise BackendUnavailable(
                f"Cannot reach {self.label} at {self.base_url}: is the server running?"
            ) from None
        except SSEError:
            raise BadResponse(
                f"{self.label} at {self.base_url} did not answer with an event stream"
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            raise BadResponse(
                f"{self.label} at {self.base_url} closed the stream before it was complete"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.label} request failed: {type(exc).__name__}") from None

    async def send(self, request: httpx.Request, *, stream: bool = True) -> httpx.Response:
        """Send and read the response head (and body unless `stream`). A pooled connection
        that the server closed just as we reused it (llama-server does so right after a
        stream ends) fails before any response: that request is sent once more, on a new
        connection."""
        try:
            return await self.client.send(request, stream=stream)
        except httpx.RemoteProtocolError:
            return await self.client.send(request, stream=stream)

    def status_error(self, status: int, body: str) -> InlineError:
        """Turn an error status into a readable error (subclasses refine 404)."""
        message = redact(error_message(body), self._api_key)
        if status in (401, 403):
            return AuthenticationFailed(
                f"{self.label} at {self.base_url} refused the request ({status}): "
                "check the API key",
                message,
            )
        if status == 404 and "model" in message.lower():
            return ModelNotFound(
                f"Model '{self.settings.model}' is not available on {self.label}", message
            )
        if status in (404, 405, 501):
            return Unsupported(f"{self.label} does not support this request ({status})", message)
        return BackendError(f"{self.label} answered {status}: {message}"[:300], message)

    def parse_json(self, text: str) -> dict[str, Any]:
        """Parse one streamed JSON message, or fail with a readable error."""
        try:
            data = json.loads(text)
        except ValueError:
            raise BadResponse(
                f"{self.label} sent something that is not JSON: {text[:80]!r}"
            ) from None
        if not isinstance(data, dict):
            raise BadResponse(f"{self.label} sent an unexpected message: {text[:80]!r}")
        if data.get("error"):
            raise BackendError(f"{self.label} reported an error: {error_message(text)}"[:300])
        return data

    @staticmethod
    async def drain(rest: AsyncIterator[Any], limit: int = 16) -> None:
        """Read what follows the last message, so the connection goes back to the pool
        instead of being closed (a new TCP connection per request costs ~1 ms)."""
        count = 0
        async for _ in rest:
            count += 1
            if count >= limit:
                return

    def truncated(self) -> BadResponse:
        return BadResponse(f"{self.label} ended the stream before finishing the suggestion")


async def _read_bounded(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ERROR_BODY:
            break
    return b"".join(chunks)[:MAX_ERROR_BODY].decode("utf-8", "replace")


def error_message(body: str) -> str:
    """The human part of an error body in the shapes servers use."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200] or "no details"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:200]
    return str(data)[:200]
