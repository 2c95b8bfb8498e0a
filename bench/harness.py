"""The benchmarks' harness, shared by `bench.py` and `bench_local.py`: reading a provider's
stream as Jupyter AI's handler does, a typing burst of requests for one cell, and the
report's tables and verdicts."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    quick: Mapping[str, Any],
    banner: str,
) -> argparse.Namespace:
    """The options; with `--quick`, `quick` replaces the defaults (options given still win)
    and the output starts with `# Quick run: {banner}`."""
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**quick)
        args = parser.parse_args(argv)
        print(f"# Quick run: {banner}\n")
    return args


JUPYTER_DIRS = {
    "config": "JUPYTER_CONFIG_DIR",
    "data": "JUPYTER_DATA_DIR",
    "runtime": "JUPYTER_RUNTIME_DIR",
    "settings": "JUPYTERLAB_SETTINGS_DIR",
    "workspaces": "JUPYTERLAB_WORKSPACES_DIR",
}
"""Jupyter's own folders and the variables that move them."""


def isolated_jupyter(workdir: Path, *names: str) -> tuple[dict[str, Path], dict[str, str]]:
    """Throw-away folders under `workdir` for a Jupyter process (`root` and the `names` of
    JUPYTER_DIRS), created, and the environment that points Jupyter at them, so that no
    setting of the user's (a Jupyter AI completions model, a saved workspace) is read."""
    dirs = {name: workdir / name for name in ("root", *names)}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env = {JUPYTER_DIRS[name]: str(dirs[name]) for name in names}
    return dirs, {**os.environ, **env}


def run_and_report(
    run: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    args: argparse.Namespace,
    noisy: str = "these numbers are noisy",
) -> int:
    """A benchmark's run: its numbers printed by `report`, the CPU time of other processes and
    the runtime, and the lot in `args.json` (`--json`, if given)."""
    clock = Run.start()
    numbers = asyncio.run(run(args))
    report(numbers)
    runtime, others = clock.report(noisy)
    save_json(args.json, numbers | {"runtime_s": runtime, "others_cpu_s": others})
    return 0


def save_json(path: Path | None, numbers: Mapping[str, Any]) -> None:
    """Also write the numbers to `path` (`--json`), if given."""
    if path is not None:
        path.write_text(json.dumps(numbers, indent=2) + "\n")


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile (inclusive method), None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


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


# -- the machine -------------------------------------------------------------------------------

BUSY_SHARE = 0.05  # of the machine's CPU time taken by other processes: noisy numbers


def machine_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot (not idle, not waiting for I/O)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its ended children (llama-server, Jupyter, ...)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class Run:
    """A benchmark run's clock and what the other processes took of the CPU meanwhile (a
    build, a test run on the same cores shows up in every number)."""

    started: float
    busy: float
    own: float

    @classmethod
    def start(cls) -> Run:
        return cls(time.perf_counter(), machine_cpu_s(), own_cpu_s())

    def report(self, noisy: str = "these numbers are noisy") -> tuple[float, float]:
        """Print the CPU time of other processes and the runtime; return both (s)."""
        runtime = time.perf_counter() - self.started
        others = (machine_cpu_s() - self.busy) - (own_cpu_s() - self.own)
        share = others / (runtime * (os.cpu_count() or 1))
        note = f" (busy: {noisy})" if share > BUSY_SHARE else ""
        print(
            f"CPU time of other processes meanwhile: {others:.1f} s, {share:.0%} of the "
            f"machine{note}"
        )
        print(f"Total runtime: {runtime:.1f} s")
        return runtime, others
