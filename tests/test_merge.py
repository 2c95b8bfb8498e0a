"""Merging several async iterators, and cancelling them."""

import asyncio

import pytest

from jupyter_ai_inline.engine.merge import Merged

pytestmark = pytest.mark.asyncio


async def ticks(name: str, delay: float, count: int, log: list[str]):
    try:
        for i in range(count):
            await asyncio.sleep(delay)
            yield f"{name}{i}"
    finally:
        log.append(f"{name} closed")


async def test_items_arrive_interleaved_as_produced_and_each_ends_once() -> None:
    log: list[str] = []
    items = []
    # a at 20, 40, 60 ms, b at 50, 100 ms: no two at once (a tie made the order flaky)
    async with Merged([ticks("a", 0.02, 3, log), ticks("b", 0.05, 2, log)]) as merged:
        async for item in merged:
            items.append((item.index, item.value, item.done))
    assert [v for _, v, _ in items if v] == ["a0", "a1", "b0", "a2", "b1"]
    assert sorted(i for i, _, done in items if done) == [0, 1]


async def test_leaving_early_closes_every_iterator() -> None:
    log: list[str] = []
    async with Merged([ticks("a", 0.01, 100, log), ticks("b", 0.01, 100, log)]) as merged:
        async for _item in merged:
            break
    assert sorted(log) == ["a closed", "b closed"]


async def test_cancel_one_reports_it_done_and_keeps_the_others() -> None:
    log: list[str] = []
    seen = []
    async with Merged([ticks("a", 0.01, 100, log), ticks("b", 0.01, 3, log)]) as merged:
        async for item in merged:
            if item.value == "a0":
                merged.cancel(0)
            seen.append((item.index, item.value, item.done))
    assert (0, None, True) in seen
    assert [v for i, v, _ in seen if i == 0 and v] == ["a0"]
    assert [v for i, v, _ in seen if i == 1 and v] == ["b0", "b1", "b2"]
    assert "a closed" in log


async def test_cancel_all_ends_iteration_and_errors_are_reported() -> None:
    async def broken():
        yield "x"
        raise ValueError("boom")

    log: list[str] = []
    async with Merged([broken(), ticks("a", 0.01, 100, log)]) as merged:
        errors = []
        async for item in merged:
            if item.error:
                errors.append(item.error)
                merged.cancel()
    assert [str(e) for e in errors] == ["boom"]
    assert merged.cancelled and log == ["a closed"]


async def slow_to_close(log: list[str], closing: float):
    """Yields forever; closing takes `closing` seconds (like closing an HTTP stream)."""
    try:
        while True:
            await asyncio.sleep(0.01)
            yield "x"
    finally:
        await asyncio.sleep(closing)
        log.append("closed cleanly")


async def test_cleanup_of_a_stopped_iterator_is_not_interrupted_on_exit() -> None:
    log: list[str] = []
    async with Merged([slow_to_close(log, 0.02)]) as merged:
        async for _item in merged:
            merged.cancel()
            await asyncio.sleep(0.005)  # the task is now inside its cleanup
    assert log == ["closed cleanly"]


async def test_cancelling_a_request_while_it_cleans_up_does_not_interrupt_the_cleanup() -> None:
    """A superseded request waits for its streams to close; cancelling it then (the tab
    closes) must not cancel the streams a second time, in the middle of their closing."""
    log: list[str] = []

    async def superseded() -> None:
        async with Merged([slow_to_close(log, 0.05)]) as merged:
            async for _item in merged:
                merged.cancel()

    task = asyncio.create_task(superseded())
    await asyncio.sleep(0.03)  # in Merged.__aexit__, waiting for the stream to close
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and log == ["closed cleanly"]
