"""Run several async iterators at once and yield their items as they arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Arrival(Generic[T]):
    """What one of the merged iterables produced: a value, or its end (maybe an error)."""

    index: int
    value: T | None = None
    done: bool = False
    error: BaseException | None = None


_STOP = object()


class Merged(Generic[T]):
    """`async with Merged(iterables) as merged: async for item in merged: ...`

    One task per iterable. Leaving the block cancels and awaits all of them, which
    closes the underlying streams. `cancel()` ends the iteration at once (supersede);
    `cancel(index)` stops one iterable.
    """

    def __init__(self, iterables: Sequence[AsyncIterable[T]]) -> None:
        self._iterables = iterables
        self._queue: asyncio.Queue[Arrival[T] | object] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[int] = set()
        self._stopped: set[int] = set()
        self._cancelled: set[int] = set()
        self.cancelled = False

    async def __aenter__(self) -> Merged[T]:
        self._tasks = [
            asyncio.create_task(self._pump(index, iterable))
            for index, iterable in enumerate(self._iterables)
        ]
        self._running = set(range(len(self._tasks)))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for index in range(len(self._tasks)):
            self._cancel_task(index)
        # Not gather: cancelling this task meanwhile (a tab closing) would make gather cancel
        # them a second time, in their cleanup. Cancelled already, they end soon.
        cancelled = False
        while pending := [task for task in self._tasks if not task.done()]:
            try:
                await asyncio.wait(pending)
            except asyncio.CancelledError:
                cancelled = True
        for task in self._tasks:
            if not task.cancelled():
                task.exception()  # seen: _pump reports its errors as items
        if cancelled:
            raise asyncio.CancelledError

    def _cancel_task(self, index: int) -> None:
        """Cancel a task once: a second cancel would interrupt its cleanup (closing
        the HTTP stream) and leave the backend generating."""
        if index not in self._cancelled:
            self._cancelled.add(index)
            self._tasks[index].cancel()

    async def _pump(self, index: int, iterable: AsyncIterable[T]) -> None:
        try:
            async for value in iterable:
                self._queue.put_nowait(Arrival(index, value))
        except Exception as error:
            self._queue.put_nowait(Arrival(index, done=True, error=error))
        else:
            self._queue.put_nowait(Arrival(index, done=True))

    def cancel(self, index: int | None = None) -> None:
        """Stop one iterable (it reports done), or all and end the iteration."""
        if index is None:
            self.cancelled = True
            for task_index in range(len(self._tasks)):
                self._cancel_task(task_index)
            self._queue.put_nowait(_STOP)
        elif index in self._running and index not in self._stopped:
            self._stopped.add(index)
            self._cancel_task(index)
            self._queue.put_nowait(Arrival(index, done=True))

    async def __aiter__(self) -> AsyncIterator[Arrival[T]]:
        while self._running:
            item = await self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Arrival)
            if item.index not in self._running or (item.index in self._stopped and not item.done):
                continue
            if item.done:
                self._running.discard(item.index)
            yield item
