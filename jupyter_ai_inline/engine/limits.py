"""A bound on concurrent generations, shared by everything that serves one Jupyter server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .errors import ServerBusy

if sys.version_info >= (3, 11):
    from asyncio import timeout
else:  # pragma: no cover
    from async_timeout import timeout


class GenerationLimit:
    """At most `size` generations at once; one that waits longer than `wait` seconds
    for its turn fails as `ServerBusy` (the model server is not to blame)."""

    def __init__(self, size: int, wait: float = 2.0) -> None:
        if size < 1:
            raise ValueError(f"a generation limit must be at least 1, not {size}")
        self.size = size
        self.wait = wait
        self.running = 0
        self._free = asyncio.Semaphore(size)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            async with timeout(self.wait):
                await self._free.acquire()
        except TimeoutError:
            raise ServerBusy(
                f"This Jupyter server is already generating {self.size} suggestions at once "
                "(c.JupyterAIInline.max_generations): try again in a moment"
            ) from None
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._free.release()
