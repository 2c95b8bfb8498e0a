"""The benchmarks' harness, shared by `bench.py` and `bench_local.py`: reading a provider's
stream as Jupyter AI's handler does, a typing burst of requests for one cell, and the
report's tables and verdicts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from jupyter_ai_magics.models.completion import (
    InlineCompletionReply,
    InlineCompletionRequest,
    InlineCompletionStreamChunk,
)

from tests.support.completion import inline_request

Reply = InlineCompletionReply | InlineCompletionStreamChunk
StreamFn = Callable[[InlineCompletionRequest], AsyncIterator[Reply]]

BURST_INTERVAL = 0.15  # s between keystroke requests
BURST_TIMEOUT = 60.0  # s, bound on one provider's burst
BURST_FIRST_TEXT_SLACK_MS = 50.0
BURST_RATIO_TARGET = 1.2


# -- measuring one provider stream -------------------------------------------------------------


@dataclass
class StreamRecord:
    """What the browser would receive for one request, with the arrival of the first text."""

    sent_at: float
    first_text_at: float | None = None
    replies: list[Reply] = field(default_factory=list)

    @property
    def first_text_ms(self) -> float | None:
        if self.first_text_at is None:
            return None
        return (self.first_text_at - self.sent_at) * 1000

    @property
    def final_text(self) -> str:
        chunks = [r for r in self.replies if isinstance(r, InlineCompletionStreamChunk)]
        return chunks[-1].response.insertText if chunks else ""


def reply_text(reply: Reply) -> str:
    if isinstance(reply, InlineCompletionStreamChunk):
        return reply.response.insertText
    return "".join(item.insertText for item in reply.list.items)


async def consume(stream: StreamFn, request: InlineCompletionRequest, record: StreamRecord) -> None:
    """Read a provider's stream to the end as Jupyter AI's handler does, keeping every reply."""
    async for reply in stream(request):
        if record.first_text_at is None and reply_text(reply):
            record.first_text_at = time.perf_counter()
        record.replies.append(reply)


def completion_request(number: int, prefix: str, cell_id: str) -> InlineCompletionRequest:
    """A request at the end of a Python cell of `bench.ipynb`."""
    return inline_request(
        number, prefix=prefix, language="python", path="bench.ipynb", cell_id=cell_id
    )


# -- typing burst ------------------------------------------------------------------------------


@dataclass
class BurstResult:
    provider: str
    last_first_text_ms: float | None
    tokens_generated: int
    tokens_shown: int
    replies: int
    unfinished: int  # requests still streaming at the timeout (then cancelled)
    failed: int
    seconds: float

    @property
    def ratio(self) -> float | None:
        return self.tokens_generated / self.tokens_shown if self.tokens_shown else None


def burst_requests(count: int) -> list[InlineCompletionRequest]:
    """Keystrokes in one cell: the same (path, cell_id), the prefix one character longer.

    The typed line is a comment, so the generated code (a new line) never repeats it: a
    repetition would be held back as a possible echo and delay the first text.
    """
    typed = "# total sales per region and month"
    base = 'import pandas as pd\n\ndf = pd.read_csv("sales.csv")\n'
    return [completion_request(n + 1, base + typed[: n + 1], "cell-burst") for n in range(count)]


async def send_burst(
    stream: StreamFn, requests: Sequence[InlineCompletionRequest]
) -> tuple[list[StreamRecord], list[Exception], int, float]:
    """Each request in its own task, BURST_INTERVAL apart; wait for all (bounded by
    BURST_TIMEOUT, then cancelled). Records, failures, unfinished count and seconds."""
    records: list[StreamRecord] = []
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i, request in enumerate(requests):
        await asyncio.sleep(max(0.0, start + i * BURST_INTERVAL - time.perf_counter()))
        records.append(StreamRecord(time.perf_counter()))
        tasks.append(asyncio.create_task(consume(stream, request, records[-1])))
    _, pending = await asyncio.wait(tasks, timeout=BURST_TIMEOUT)
    for task in pending:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, Exception)]  # not the cancelled ones
    return records, failed, len(pending), time.perf_counter() - start


# -- report ------------------------------------------------------------------------------------


@dataclass
class Verdict:
    target: str
    met: bool
    detail: str

    def line(self) -> str:
        return f"- **{'met' if self.met else 'NOT MET'}**: {self.target} ({self.detail})"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return "-" if value is None else str(value)

    lines = [headers, ["---"] * len(headers), *[[cell(v) for v in row] for row in rows]]
    return "\n".join("| " + " | ".join(map(str, line)) + " |" for line in lines)


def ratio_verdict(r: BurstResult) -> Verdict:
    """Tokens generated per token shown, against BURST_RATIO_TARGET."""
    return Verdict(
        f"{r.provider}: generated/shown <= {BURST_RATIO_TARGET}",
        r.ratio is not None and r.ratio <= BURST_RATIO_TARGET,
        f"{r.tokens_generated} generated / {r.tokens_shown} shown",
    )


def print_verdicts(verdicts: Sequence[Verdict]) -> None:
    print("## Verdicts\n")
    print("\n".join(v.line() for v in verdicts))
