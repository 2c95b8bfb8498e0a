"""Cancelled requests give their pooled connections back (issue #10, item 6).

httpcore 1.0.9 loses a connection for good when a request's task is cancelled at one of a
few moments (encode/httpcore#1093); after enough superseded requests every completion
waited for a connection until it timed out. These tests cancel thousands of requests at
every moment of their life and then check that the pool holds no busy connection and that
as many generations as before can run at once.
"""

import asyncio
import random
import time

import pytest

from jupyter_ai_inline.engine import (
    CompletionRequest,
    FimPrompt,
    InlineCompleter,
    OllamaBackend,
    Sampling,
)
from jupyter_ai_inline.engine.http import LIMITS
from jupyter_ai_inline.engine.models import GenerationSettings
from tests.support.backends import backend_on
from tests.support.fake_backend import FakeBackend
from tests.support.pool import busy

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="x = ", suffix="")
CAPACITY = LIMITS.max_connections


async def capacity(backend: OllamaBackend, fake: FakeBackend) -> int:
    """How many generations get their first token at once (within the pool's timeout)."""
    fake.tokens, fake.token_delay = ["x"] * 1000, 0.01
    streams = [backend.stream(PROMPT, Sampling(max_tokens=1000)) for _ in range(CAPACITY)]
    try:
        firsts = await asyncio.gather(
            *(asyncio.wait_for(anext(stream), 10) for stream in streams), return_exceptions=True
        )
        return sum(first == "x" for first in firsts)
    finally:
        for stream in streams:
            await stream.aclose()


async def cancelled_at_every_moment(backend: OllamaBackend, moments: int, at_once: int) -> int:
    """Start `at_once` generations (more than the pool holds, so some wait for a connection)
    and cancel them after 0, 1, ... `moments` - 1 turns of the event loop."""

    async def generate() -> None:
        async for _ in backend.stream(PROMPT, Sampling(max_tokens=16)):
            pass

    cancelled = 0
    for moment in range(moments):
        tasks = [asyncio.create_task(generate()) for _ in range(at_once)]
        for _ in range(moment):
            await asyncio.sleep(0)
        for task in tasks:
            cancelled += task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    return cancelled


async def test_a_cancel_at_any_moment_of_a_request_gives_its_connection_back(
    fake: FakeBackend,
) -> None:
    backend = backend_on(fake, "ollama")
    assert await capacity(backend, fake) == CAPACITY
    fake.tokens, fake.token_delay = ["x", "y", "z"], 0.0
    cancelled = await cancelled_at_every_moment(backend, moments=40, at_once=CAPACITY + 8)
    assert busy(backend) == (0, 0)
    assert await capacity(backend, fake) == CAPACITY
    assert cancelled > 500  # of 1,600 (the others had ended): the sweep did cancel


async def test_thousands_of_superseded_requests_leave_the_pool_whole(fake: FakeBackend) -> None:
    """Requests for four cells, each superseding the previous one of its cell at a random
    moment: before the response, while streaming, while draining the end."""
    backend = backend_on(fake, "ollama")
    completer = InlineCompleter(backend, GenerationSettings(suggestions=3, max_tokens=64))
    assert await capacity(backend, fake) == CAPACITY
    fake.tokens, fake.token_delay = ["x"] * 8, 0.001
    pace = random.Random(6)

    async def complete(number: int) -> None:
        request = CompletionRequest(prefix=f"x{number} = ", path="a.ipynb", cell_id=str(number % 4))
        async for _ in completer.stream(request, completer.prompt(request)):
            pass

    tasks: set[asyncio.Task[None]] = set()
    disconnects = fake.disconnects
    deadline = time.perf_counter() + 20
    for number in range(700):  # 2,100 streams, most of them cancelled
        task = asyncio.create_task(complete(number))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(pace.choice([0, 0.0005, 0.001, 0.002, 0.004]))
        assert time.perf_counter() < deadline
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    cancelled = fake.disconnects - disconnects
    assert busy(backend) == (0, 0)
    assert await capacity(backend, fake) == CAPACITY
    assert cancelled > 500  # generations the backend saw cancelled (others before they began)
