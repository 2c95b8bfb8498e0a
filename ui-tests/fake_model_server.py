"""The browser tests' model server: `tests.support.fake_backend.FakeBackend` on a fixed port.

It speaks Ollama's API (among others) and answers deterministically per suggestion: the first
(greedy, no seed) is FIRST, the second (``options.seed`` = 1) is SECOND, any other seed gets
``turn <seed>``, so cycling with Alt+] is observable. A prompt with ``def slow`` gets SLOW (both
suggestions), one piece every SLOW_DELAY seconds, so that a generation still runs while the
user types. A prompt that ends with ``# total revenue by region`` and a line break (the empty
line below that comment) gets REVENUE, three lines. Runs until killed (Playwright's webServer
stops it). Usage:
``python fake_model_server.py [PORT]``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for `tests`

from tests.support.fake_backend import FakeBackend  # noqa: E402

PORT = 11435
FIRST = ["turn", " 42"]  # typed after `re`: `return 42`
SECOND = ["turn", " 6", " *", " 7"]  # `return 6 * 7`
SLOW = ["turn", " 1", "2", "3", "4", "5", "6", "7", "8"]  # `return 12345678`, over 2 s
SLOW_DELAY = 0.25
COMMENT = "# total revenue by region\n"
REVENUE = ["total", " =", " df", ".groupby", '("region")', '["revenue"]', ".sum()", "\n"]
REVENUE += ["total", ".plot", "()", "\n", "print", "(total)"]
"""Below COMMENT, three lines: `total = df.groupby(...).sum()`, `total.plot()`, `print(total)`."""

_slow = contextvars.ContextVar("slow", default=False)
"""Whether the generation of this handler's task streams slowly (set by `tokens`)."""


RECORD = Path(os.environ.get("JAI_UI_TEST_HOME", ".")) / "model-requests.jsonl"
"""Every generation request's body, one JSON line each, for the tests to read."""


def tokens(path: str, body: dict[str, Any]) -> list[str]:
    with RECORD.open("a") as record:
        record.write(json.dumps({"path": path, "body": body}) + "\n")
    if "def slow" in str(body.get("prompt", "")):
        _slow.set(True)
        return SLOW
    if str(body.get("prompt", "")).endswith(COMMENT):
        return REVENUE
    seed = (body.get("options") or {}).get("seed", body.get("seed"))
    if seed is None:
        return FIRST
    if seed == 1:
        return SECOND
    return ["turn", f" {seed}"]


class Backend(FakeBackend):
    async def _pause(self, request: Any, seconds: float | None) -> None:
        if _slow.get() and seconds == self.token_delay:
            seconds = SLOW_DELAY
        await super()._pause(request, seconds)


async def main(port: int) -> None:
    backend = Backend(port=port, tokens=tokens, token_delay=0.02)
    await backend.start()
    print(f"fake model server listening on {backend.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await backend.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else PORT))
