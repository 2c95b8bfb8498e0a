"""One pooled `httpx.AsyncClient` per base URL and event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import httpcore
import httpx

MAX_CLIENTS = 16
"""Clients kept per event loop (one per base URL and timeouts): the least recently used one
beyond this is closed, so browsers choosing ever new URLs cannot pile up pools."""

_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, OrderedDict[str, httpx.AsyncClient]
] = weakref.WeakKeyDictionary()
_closing: set[asyncio.Task[None]] = set()

LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30)


def get_client(base_url: str, *, connect_timeout: float, read_timeout: float) -> httpx.AsyncClient:
    """The shared client for `base_url` on the running loop, created on first use."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), OrderedDict())
    key = f"{base_url}|{connect_timeout}|{read_timeout}"
    client = per_loop.get(key)
    if client is None or client.is_closed:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        client = httpx.AsyncClient(timeout=timeout, limits=LIMITS)
        for transport in (client._transport, *client._mounts.values()):
            pool = getattr(transport, "_pool", None)
            if type(pool) is httpcore.AsyncConnectionPool:  # not a proxy's
                pool.__class__ = CancelSafePool  # the same pool, two methods overridden
        per_loop[key] = client
    per_loop.move_to_end(key)
    while len(per_loop) > MAX_CLIENTS:
        _, dropped = per_loop.popitem(last=False)
        task = asyncio.create_task(dropped.aclose(), name="close a dropped HTTP client")
        _closing.add(task)
        task.add_done_callback(_closing.discard)
    return client


async def aclose_clients() -> None:
    """Close the clients of the running loop (at shutdown and in tests)."""
    per_loop = _clients.pop(asyncio.get_running_loop(), OrderedDict())
    for client in per_loop.values():
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
