"""One pooled `httpx.AsyncClient` per base URL and event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import httpcore
import httpx

MAX_CLIENTS = 16
"""Clients kept per event loop (one per base URL and timeouts): the least recently used one
beyond this is dropped, and closed once its requests in flight have ended, so browsers choosing
ever new URLs cannot pile up pools."""

LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30)


class PooledClient(httpx.AsyncClient):
    """A shared client that counts its requests in flight (sent, response not yet closed):
    one dropped from the clients of its loop is closed only once the last of them ended."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loop = asyncio.get_running_loop()
        self.in_flight = 0
        self.dropped = False

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        self.in_flight += 1
        try:
            response = await super().send(request, **kwargs)
        except BaseException:
            self._ended()
            raise
        if response.is_closed:  # read in full (`stream=False`)
            self._ended()
        else:
            response.stream = _Ends(response.stream, self._ended)
        return response

    def drop(self) -> None:
        """Close at once if no request is in flight, else when the last one ends."""
        self.dropped = True
        _dropped.add(self)
        if not self.in_flight:
            self._close()

    def _ended(self) -> None:
        self.in_flight -= 1
        if self.dropped and not self.in_flight:
            self._close()

    def _close(self) -> None:
        _dropped.discard(self)
        task = asyncio.create_task(self.aclose(), name="close a dropped HTTP client")
        _closing.add(task)
        task.add_done_callback(_closing.discard)


class _Ends(httpx.AsyncByteStream):
    """A response body that tells `ended` once it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, ended: Callable[[], None]) -> None:
        self._stream = stream
        self._ended: Callable[[], None] | None = ended

    def __aiter__(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        return self._stream.__aiter__()  # no generator of ours to be closed later

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            ended, self._ended = self._ended, None
            if ended is not None:
                ended()


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[str, PooledClient]] = (
    weakref.WeakKeyDictionary()
)
_dropped: weakref.WeakSet[PooledClient] = weakref.WeakSet()
"""Dropped clients whose requests in flight have not all ended yet."""
_closing: set[asyncio.Task[None]] = set()


def get_client(base_url: str, *, connect_timeout: float, read_timeout: float) -> httpx.AsyncClient:
    """The shared client for `base_url` on the running loop, created on first use."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), OrderedDict())
    key = f"{base_url}|{connect_timeout}|{read_timeout}"
    client = per_loop.get(key)
    if client is None or client.is_closed:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        client = PooledClient(timeout=timeout, limits=LIMITS)
        for transport in (client._transport, *client._mounts.values()):
            pool = getattr(transport, "_pool", None)
            if type(pool) is httpcore.AsyncConnectionPool:  # not a proxy's
                pool.__class__ = CancelSafePool  # the same pool, two methods overridden
        per_loop[key] = client
    per_loop.move_to_end(key)
    while len(per_loop) > MAX_CLIENTS:
        per_loop.popitem(last=False)[1].drop()
    return client


async def aclose_clients() -> None:
    """Close the clients of the running loop (at shutdown and in tests), the dropped ones
    too, even with requests in flight."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.pop(loop, OrderedDict())
    dropped = [client for client in list(_dropped) if client.loop is loop]
    for client in dropped:
        _dropped.discard(client)
    for client in [*per_loop.values(), *dropped]:
        await client.aclose()
    if _closing:
        await asyncio.gather(*_closing, return_exceptions=True)


class CancelSafePool(httpcore.AsyncConnectionPool):
    """httpcore's pool, safe against asyncio's cancellation (every superseded request is
    cancelled). httpcore 1.0.9, the latest release, loses a pooled connection for good when
    the request's task is cancelled at one of three moments (encode/httpcore#1093):

    * while it waits for a connection, once the pool has given it a new one: the connection
      stays CONNECTING (no socket);
    * at the connection's state lock just after connecting, outside the `try` that would
      close it: it stays NEW, its socket open;
    * while the response closes (httpx closes it after the last byte), inside an anyio
      shield that does not hold back `Task.cancel()`: it stays ACTIVE, its socket open, and
      the pool goes on counting the request.

    So: a connection that no request holds and that is neither idle nor closed was lost
    that way, and the pool closes it; and a response's closing, once begun, runs to its end.
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        held = {request.connection for request in self._requests}
        lost = [
            connection
            for connection in self._connections
            if connection not in held and not connection.is_idle() and not connection.is_closed()
        ]
        for connection in lost:
            self._connections.remove(connection)
        return lost + super()._assign_requests_to_connections()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        response = await super().handle_async_request(request)
        assert isinstance(response.stream, AsyncIterable)  # httpcore's PoolByteStream
        response.stream = _ClosesInFull(response.stream)
        return response


class _ClosesInFull:
    """A response body whose closing runs in a task of its own: cancelling the task that
    closes it does not interrupt it (the pool would count the request as busy for good)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._closing: asyncio.Future[None] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._stream.aclose())
            self._closing.add_done_callback(_retrieve)
        await asyncio.shield(self._closing)


def _retrieve(closing: asyncio.Future[None]) -> None:
    """Mark the outcome as seen: the closer may have been cancelled before it looked."""
    if not closing.cancelled():
        closing.exception()
