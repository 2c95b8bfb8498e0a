"""One pooled `httpx.AsyncClient` per base URL and event loop."""

from __future__ import annotations

import asyncio
import weakref

import httpx

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)

LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30)


def get_client(base_url: str, *, connect_timeout: float, read_timeout: float) -> httpx.AsyncClient:
    """The shared client for `base_url` on the running loop, created on first use."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = f"{base_url}|{connect_timeout}|{read_timeout}"
    client = per_loop.get(key)
    if client is None or client.is_closed:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        client = httpx.AsyncClient(timeout=timeout, limits=LIMITS)
        per_loop[key] = client
    return client


async def aclose_clients() -> None:
    """Close the clients of the running loop (at shutdown and in tests)."""
    per_loop = _clients.pop(asyncio.get_running_loop(), {})
    for client in per_loop.values():
        await client.aclose()
