"""A bound on concurrent generations, shared by everything that serves one Jupyter server,
the one prompt warm-up that may run while nothing is generated, and the pauses of model
servers that said they were overloaded."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal

from .errors import BackendBusy, ServerBusy

MAX_BACKOFF = 30.0
"""The longest pause for an overloaded model server, in seconds (also caps `Retry-After`)."""
MAX_BACKOFF_URLS = 64

Skipped = Literal["busy", "superseded", "unchanged"]
"""Why a warm-up did not run to its end: suggestions were being generated, a suggestion or a
newer warm-up came first, or the same prompt was the last one warmed."""


class GenerationLimit:
    """At most `size` generations at once; one that waits longer than `wait` seconds
    for its turn fails as `ServerBusy` (the model server is not to blame).

    Warm-ups (`warm`) are not generations: at most one runs at a time, only while no
    generation does, and a newer warm-up or a generation of another prompt cancels it."""

    def __init__(self, size: int, wait: float = 2.0) -> None:
        if size < 1:
            raise ValueError(f"a generation limit must be at least 1, not {size}")
        self.size = size
        self.wait = wait
        self.running = 0
        self._free = asyncio.Semaphore(size)
        self.wait_warm_up = 15.0
        self._backoff: dict[str, tuple[float, float]] = {}
        """Per model server URL: until when it is not asked, and that pause's length."""
        self._warm_up: asyncio.Task[object] | None = None
        self._warm_key: object = None
        self._last_warmed: object = None

    def check_backoff(self, url: str) -> None:
        """`BackendBusy` at once, without asking it, while a model server that said it was
        overloaded gets its pause (so that busy servers see no storm of retries)."""
        left = self.backoff_left(url)
        if left > 0:
            raise BackendBusy(
                f"The model server at {url} is busy: asking it again in {math.ceil(left)} s",
                overloaded=False,
            )

    def overloaded(self, url: str, retry_after: float = 0) -> None:
        """The model server at `url` answered 429/503: pause for its `Retry-After`, else for
        twice the last pause (1 s first), at most `MAX_BACKOFF` seconds."""
        last = self._backoff.get(url, (0.0, 0.0))[1]
        pause = min(retry_after or (2 * last or 1.0), MAX_BACKOFF)
        self._backoff[url] = (time.monotonic() + pause, pause)
        while len(self._backoff) > MAX_BACKOFF_URLS:
            del self._backoff[next(iter(self._backoff))]

    def recovered(self, url: str) -> None:
        """The model server at `url` answered: no pause any more."""
        self._backoff.pop(url, None)

    def backoff_left(self, url: str) -> float:
        """Seconds until the model server at `url` is asked again (0 or less: now)."""
        until = self._backoff.get(url, (0.0, 0.0))[0]
        return until - time.monotonic()

    @asynccontextmanager
    async def slot(self, continues: Callable[[object], bool] | None = None) -> AsyncIterator[None]:
        """A generation's turn. The running warm-up is cancelled (a suggestion never waits
        behind another prompt), unless `continues(its key)`: then the warm-up is evaluating
        this suggestion's own prompt, and the suggestion waits for it (at most `wait_warm_up`
        seconds) rather than start that prompt again from nothing on another slot."""
        task = self._warm_up
        if task is not None and continues is not None and continues(self._warm_key):
            await asyncio.wait({task}, timeout=self.wait_warm_up)
        self.cancel_warm_up()
        self._last_warmed = None  # what the model server caches may change now
        try:
            async with asyncio.timeout(self.wait):
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

    async def warm(
        self,
        key: object,
        work: Callable[[], Awaitable[object]],
        continues: Callable[[object], bool] | None = None,
    ) -> Skipped | None:
        """Run `work()` as the warm-up of `key` (what it prepares, e.g. the prompt), unless
        suggestions are being generated or `key` was the last warm-up that ran to its end.
        A running warm-up is cancelled first, unless `continues(its key)` (this prompt
        extends it: the user moved on to the next cell): then it is waited for, so that its
        work is not lost. None once `work` ran to its end. Cancelling the caller stops the
        wait but leaves the warm-up running until a later warm-up or suggestion decides."""
        if self.running:
            return "busy"
        if key == self._last_warmed:
            return "unchanged"
        running = self._warm_up
        if running is not None and continues is not None and continues(self._warm_key):
            await asyncio.wait({running}, timeout=self.wait_warm_up)
            if self.running:
                return "busy"
            if key == self._last_warmed:
                return "unchanged"
        self.cancel_warm_up()
        task = self._warm_up = asyncio.ensure_future(work())
        self._warm_key = key

        def done(task: asyncio.Future[object]) -> None:
            if self._warm_up is task:
                self._warm_up = None
            if not task.cancelled() and task.exception() is None:
                self._last_warmed = key

        task.add_done_callback(done)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if task.cancelled() and not (caller and caller.cancelling()):
                return "superseded"
            raise
        return None

    async def aclose(self) -> None:
        """Cancel the running warm-up and wait for it to end (at the server's shutdown)."""
        task = self._warm_up
        self.cancel_warm_up()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def cancel_warm_up(self) -> None:
        """Stop the running warm-up (its model server stream closes)."""
        if self._warm_up is not None:
            self._warm_up.cancel()
            self._warm_up = None
