"""The one bounded poll of the tests and benchmarks."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 5.0,
    interval: float = 0.01,
    what: str = "the condition",
) -> float:
    """Check `condition` (a function, or a coroutine function) every `interval` seconds until
    it is true; return the seconds that took. `TimeoutError` naming `what` if it is still
    false after `timeout` seconds. An exception from `condition` ends the wait at once."""
    started = time.monotonic()
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} still not true after {timeout:g} s")
        await asyncio.sleep(interval)
