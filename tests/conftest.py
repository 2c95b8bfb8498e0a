"""Shared fixtures: a loopback fake model server and the engine's HTTP clients."""

from collections.abc import AsyncIterator

import pytest_asyncio

from jupyter_ai_inline.engine import aclose_clients
from tests.fake_backend import FakeBackend


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    """A fake model server; the engine's pooled clients are closed afterwards."""
    async with FakeBackend() as backend:
        yield backend
        await aclose_clients()
