"""What every backend shares: the HTTP stream, our own bounds on what a model server
sends (deadlines, tokens, bytes), status and transport errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from typing import Any, ClassVar

import httpx
from httpx_sse import SSEError

from ..errors import (
    AuthenticationFailed,
    BackendBusy,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    InlineError,
    ModelNotFound,
    Unsupported,
    server_text,
)
from ..http import get_client
from ..models import BackendSettings, FimPrompt, Layout, Sampling

MAX_ERROR_BODY = 4096
MAX_CHARS_PER_TOKEN = 64
"""A suggestion longer than this many characters per allowed token is cut there."""
FINISH_SECONDS = 0.05
FINISH_MESSAGES = 4
"""A stream that reached its `max_tokens` is read on for this long and this many messages
without text: a server asked for that many tokens sends its end at once, and a stream read to
its end leaves its connection to the pool (a closed one costs a new connection)."""


class Backend(ABC):
    """A model server that streams the text for a fill-in-the-middle prompt."""

    label: ClassVar[str]
    """User-facing name of the server kind, used in error titles."""
    default_base_url: ClassVar[str]

    def __init__(self, settings: BackendSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._client = client
        """A client of the caller's (e.g. with `httpx.MockTransport` in tests); by default
        the pooled one for this base URL."""

    def laid_out(self, prompt: FimPrompt, auto: Layout = "cells") -> FimPrompt:
        """The prompt in the layout of the `prompt_layout` setting (`auto`: as given, the
        cells where no measurement chose another)."""
        layout = self.settings.prompt_layout
        return replace(prompt, layout=auto if layout == "auto" else layout)

    @abstractmethod
    def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        """Yield the generated text piece by piece, "" for a message without text (it
        shows the server is alive); closing it stops the generation."""

    async def generate(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        """`stream` within our own bounds, whatever the server does: the deadlines of
        `paced`, at most `max_tokens` pieces and `MAX_CHARS_PER_TOKEN` characters per token
        (then it ends as if the server had stopped at its length limit, see `finish`)."""
        chars_left = sampling.max_tokens * MAX_CHARS_PER_TOKEN
        pieces_left = sampling.max_tokens
        async with (
            aclosing(self.stream(prompt, sampling)) as pieces,
            aclosing(self.paced(pieces)) as paced,
        ):
            async for text in paced:
                if not text:
                    continue
                text = text[:chars_left]
                pieces_left -= 1
                chars_left -= len(text)
                yield text
                if chars_left <= 0:
                    return
                if pieces_left <= 0:
                    await self.finish(paced)
                    return

    @staticmethod
    async def finish(rest: AsyncIterator[str]) -> None:
        """Read the end of a stream that reached its `max_tokens`, briefly (`FINISH_SECONDS`,
        `FINISH_MESSAGES`): at the first text (the server ignores the limit) or failure, the
        stream is left to be closed; the suggestion is whole either way."""
        with contextlib.suppress(TimeoutError, InlineError):
            async with asyncio.timeout(FINISH_SECONDS):
                count = 0
                async for text in rest:
                    count += 1
                    if text or count >= FINISH_MESSAGES:
                        return

    async def paced(self, pieces: AsyncIterator[str]) -> AsyncIterator[str]:
        """`pieces` within the deadlines: the first message within `first_text_timeout`,
        then no silence longer than `stall_timeout` ("" counts: the server is alive)."""
        settings = self.settings
        deadline, first = settings.first_text_timeout, True
        while True:
            try:
                async with asyncio.timeout(deadline):
                    text = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise self.deadline_error(first) from None
            deadline, first = settings.stall_timeout, False
            yield text

    can_warm: ClassVar[bool] = False
    """Whether `warm` can prepare a prompt on this kind of server."""

    async def warm(self, prompt: FimPrompt) -> None:
        """Have the model server evaluate the prompt into its cache without generating, so
        that the suggestions that follow start at once; within the deadlines of `paced`,
        and cancelling it closes the server's stream."""
        raise Unsupported(f"{self.label} cannot prepare a prompt ahead of a suggestion")

    def deadline_error(self, first: bool) -> BackendTimeout:
        if first:
            seconds = self.settings.first_text_timeout
            return BackendTimeout(
                f"{self.label} at {self.base_url} sent no text within {seconds:g} s "
                "(first-text deadline)"
            )
        seconds = self.settings.stall_timeout
        return BackendTimeout(
            f"{self.label} at {self.base_url} stalled: nothing for {seconds:g} s in the middle "
            "of a suggestion (stall deadline)"
        )

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        return get_client(
            self.base_url,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=max(self.settings.read_timeout, self.settings.first_text_timeout + 1),
        )  # a backstop: the first text's deadline comes first, also when set beyond it

    @property
    def _api_key(self) -> str | None:
        key = self.settings.api_key
        return key.get_secret_value() if key else None

    def server_text(self, text: str, limit: int = 200) -> str:
        """What the server sent, fit for a title: our key redacted, one line, cut."""
        return server_text(text, (self._api_key,), limit)

    def scrub(self, error: InlineError) -> InlineError:
        """The error with our key redacted from its title and detail, wherever they came
        from (the last check before an error leaves the engine)."""
        error.title = self.server_text(error.title, len(error.title))
        error.detail = self.server_text(error.detail, MAX_ERROR_BODY)
        return error

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
                    raise self.status_error(response.status_code, body, response.headers)
                response.stream = _BoundedStream(response.stream, self.settings.max_response_bytes)
                yield response
            finally:
                await response.aclose()
        except httpx.PoolTimeout:
            raise BackendBusy(
                f"Every connection to {self.label} at {self.base_url} is busy "
                "(too many suggestions at once)"
            ) from None
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

    def status_error(
        self, status: int, body: str, headers: httpx.Headers | None = None
    ) -> InlineError:
        """Turn an error status into a readable error (subclasses refine 404)."""
        message = self.server_text(error_message(body))
        if status in (429, 503):
            retry = (headers or {}).get("retry-after", "")
            after = f": retry after {retry} s" if retry.isdigit() else ""
            return BackendBusy(
                f"{self.label} at {self.base_url} is busy ({status}){after}",
                message,
                overloaded=True,
                retry_after=float(retry) if retry.isdigit() else 0,
            )
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
        return BackendError(f"{self.label} answered {status}: {message}", message)

    def parse_json(self, text: str) -> dict[str, Any]:
        """Parse one streamed JSON message, or fail with a readable error."""
        try:
            data = json.loads(text)
        except ValueError:
            raise BadResponse(
                f"{self.label} sent something that is not JSON: {self.server_text(text, 80)!r}"
            ) from None
        if not isinstance(data, dict):
            raise BadResponse(
                f"{self.label} sent an unexpected message: {self.server_text(text, 80)!r}"
            )
        if data.get("error"):
            message = self.server_text(error_message(text))
            raise BackendError(f"{self.label} reported an error: {message}", message)
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
    """The human part of an error body in the shapes servers use (not yet redacted or
    cut: see `Backend.server_text`)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip() or "no details"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)
    return str(data)


class _BoundedStream(httpx.AsyncByteStream):
    """A response body that fails once it grows past `limit` bytes: a server that sends
    an endless line or ignores `max_tokens` cannot fill our memory."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: int) -> None:
        self.stream = stream
        self.limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self.stream:
            size += len(chunk)
            if size > self.limit:
                raise BadResponse(f"The model server sent more than {self.limit:,} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()
