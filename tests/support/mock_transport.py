"""An `httpx.AsyncClient` on a `MockTransport`, for wire-format tests without a socket."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

EVENT_STREAM = {"content-type": "text/event-stream"}


def sse(*events: dict) -> bytes:
    """Server-sent events, one `data:` line per event."""
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


def mock(
    answer: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose requests `answer` answers, and the list of what it was sent."""
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), sent
