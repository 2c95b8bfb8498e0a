"""Latency and waste of the inline-completion providers, against the loopback fake server.

Run from the repository root::

    python bench/bench.py            # full run, about 1 minute
    python bench/bench.py --quick    # smoke run, about 20 s
    python bench/bench.py --json bench.json

Sections, each printed as a Markdown table with a verdict per target:

1. Overhead: time from calling `OllamaInlineProvider.stream_inline_completions` to the
   first non-empty text, minus the fake server's own time to first token.
2. Typing burst: ten requests for one cell, 150 ms apart, against a one-slot server, for
   our provider and Jupyter AI 2's built-in Ollama provider (LangChain `ChatOllama`).
3. Context extraction: reading the cells around the cursor from a live `YNotebook`.

The fake server runs on the benchmark's own event loop, so its request parsing counts as
client time; section 1 measures that floor with a bare httpx client for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from jupyter_ai_magics.models.completion import InlineCompletionRequest
from jupyter_ai_magics.partner_providers.ollama import OllamaProvider
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from jupyter_ai_inline.engine import CompletionRequest, ContextBudget, aclose_clients
from jupyter_ai_inline.engine.prompt import build_prompt
from jupyter_ai_inline.notebook_context import with_neighbours
from jupyter_ai_inline.providers import OllamaInlineProvider

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` and `tests` are the packages there

from bench.harness import (  # noqa: E402
    BURST_FIRST_TEXT_SLACK_MS,
    BURST_INTERVAL,
    BurstResult,
    StreamFn,
    StreamRecord,
    Verdict,
    burst_requests,
    completion_request,
    consume,
    markdown_table,
    print_verdicts,
    ratio_verdict,
    send_burst,
)
from tests.support.fake_backend import FakeBackend  # noqa: E402


@dataclass(frozen=True)
class Config:
    overhead_requests: int
    overhead_warmup: int
    burst_requests: int
    burst_tokens: int
    context_sizes: tuple[int, ...]
    warm_calls: int
    naive_calls: int


FULL = Config(
    overhead_requests=200,
    overhead_warmup=5,
    burst_requests=10,
    burst_tokens=60,
    context_sizes=(10, 100, 1000),
    warm_calls=50,
    naive_calls=5,
)
QUICK = Config(
    overhead_requests=30,
    overhead_warmup=3,
    burst_requests=4,
    burst_tokens=40,
    context_sizes=(10, 100, 1000),
    warm_calls=10,
    naive_calls=1,
)

OVERHEAD_TTFT = 0.02  # s, the fake server's time to first token in section 1
OVERHEAD_TOKEN_DELAY = 0.005  # s: the server then idles, so it does not delay the client
OVERHEAD_TARGET_MS = 2.0
BURST_TTFT = 0.1  # s
BURST_TOKEN_DELAY = 0.05  # s, i.e. 20 tokens/s
CONTEXT_WARM_TARGET_MS = 5.0
CONTEXT_FLAT_FACTOR = 1.5  # warm time with outputs at most this times the time without
OUTPUT_CHARS_PER_CODE_CELL = 1024 * 1024 // 100  # 1 MB of outputs per 100 code cells

BURST_CODE = """
summary = (
    df.groupby(["region", "month"])["amount"]
    .agg(["sum", "mean", "count"])
    .reset_index()
)
summary["share"] = summary["sum"] / summary["sum"].sum()
top = summary.sort_values("share", ascending=False).head(10)
print(top.to_string(index=False))
fig, ax = plt.subplots(figsize=(8, 4))
"""


def code_tokens(count: int) -> list[str]:
    """The first `count` word-or-symbol pieces of BURST_CODE, like a code model's tokens."""
    tokens = re.findall(r"\s*\w+|\s*[^\w\s]", BURST_CODE)
    assert len(tokens) >= count, len(tokens)
    return tokens[:count]


# -- 1. overhead -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overhead:
    """Client time of one request, split at the fake server's own time to first token."""

    outbound_ms: float  # from calling the client to the server having read the request
    inbound_ms: float  # from the server sending the first token to the client's first text

    @property
    def total_ms(self) -> float:
        return self.outbound_ms + self.inbound_ms


def overhead(record: StreamRecord, fake: FakeBackend) -> Overhead:
    """The overhead of the last request, which must have been sent alone."""
    received, generation = fake.requests[-1], fake.generations[-1]
    assert generation.body is received.body, "request and generation do not match"
    assert generation.first_token_at is not None and record.first_text_at is not None
    return Overhead(
        (received.received_at - record.sent_at) * 1000,
        (record.first_text_at - generation.first_token_at) * 1000,
    )


async def raw_first_token(client: httpx.AsyncClient, fake: FakeBackend) -> StreamRecord:
    """The harness floor: a bare httpx stream of the same endpoint, no provider."""
    record = StreamRecord(time.perf_counter())
    body = {"model": "bench", "prompt": "x = ", "stream": True}
    async with client.stream("POST", f"{fake.url}/api/generate", json=body) as response:
        async for line in response.aiter_lines():
            if record.first_text_at is None and json.loads(line).get("response"):
                record.first_text_at = time.perf_counter()
    return record


@dataclass
class OverheadStats:
    samples: int
    median_ms: float
    p99_ms: float
    outbound_median_ms: float
    inbound_median_ms: float

    @classmethod
    def of(cls, samples: Sequence[Overhead]) -> OverheadStats:
        totals = [s.total_ms for s in samples]
        return cls(
            samples=len(samples),
            median_ms=statistics.median(totals),
            p99_ms=statistics.quantiles(totals, n=100, method="inclusive")[98],
            outbound_median_ms=statistics.median(s.outbound_ms for s in samples),
            inbound_median_ms=statistics.median(s.inbound_ms for s in samples),
        )


OURS_OVERHEAD = "OllamaInlineProvider"
FLOOR_OVERHEAD = "bare httpx stream (harness floor)"


async def bench_overhead(config: Config) -> dict[str, OverheadStats]:
    """Sequential requests, alternating the provider and the bare floor, after a warm-up."""
    samples: dict[str, list[Overhead]] = {OURS_OVERHEAD: [], FLOOR_OVERHEAD: []}
    async with (
        FakeBackend(
            tokens=["x", " =", " 1"],
            first_token_delay=OVERHEAD_TTFT,
            token_delay=OVERHEAD_TOKEN_DELAY,
        ) as fake,
        httpx.AsyncClient() as client,
    ):
        provider = OllamaInlineProvider(model_id="bench", base_url=fake.url)
        for number in range(config.overhead_warmup + config.overhead_requests):
            floor = overhead(await raw_first_token(client, fake), fake)
            request = completion_request(number, "values = [1, 2, 3]\ntotal = ", f"cell-{number}")
            record = StreamRecord(time.perf_counter())
            await consume(provider.stream_inline_completions, request, record)
            if number >= config.overhead_warmup:
                samples[FLOOR_OVERHEAD].append(floor)
                samples[OURS_OVERHEAD].append(overhead(record, fake))
    return {name: OverheadStats.of(values) for name, values in samples.items()}


# -- 2. typing burst ---------------------------------------------------------------------------


def shown_tokens(fake: FakeBackend, request: InlineCompletionRequest) -> int:
    """Backend tokens of the generation for the last request received (the shown one)."""
    last = fake.requests[-1]
    escaped_prefix = json.dumps(request.prefix)[1:-1]
    assert escaped_prefix in json.dumps(last.body), "the server got the burst out of order"
    return next((g.tokens_sent for g in fake.generations if g.body is last.body), 0)


async def typing_burst(
    name: str, make_stream: Callable[[str], StreamFn], config: Config
) -> BurstResult:
    """Send the burst to a fresh one-slot server, each request in its own never-cancelled
    task as Jupyter AI's handler does; wait for all, bounded by BURST_TIMEOUT."""
    tokens = code_tokens(config.burst_tokens)
    requests = burst_requests(config.burst_requests)
    async with FakeBackend(
        tokens=tokens, first_token_delay=BURST_TTFT, token_delay=BURST_TOKEN_DELAY, slots=1
    ) as fake:
        stream = make_stream(fake.url)  # one provider for the whole burst, as per websocket
        records, failed, unfinished, seconds = await send_burst(stream, requests)
        await fake.wait_until(lambda: fake.active == 0)
        for error in failed:
            print(f"<!-- {name}: a request failed: {error!r} -->", file=sys.stderr)
        return BurstResult(
            provider=name,
            last_first_text_ms=records[-1].first_text_ms,
            tokens_generated=fake.tokens_generated,
            tokens_shown=shown_tokens(fake, requests[-1]),
            replies=sum(len(record.replies) for record in records),
            unfinished=unfinished,
            failed=len(failed),
            seconds=seconds,
        )


def ours(base_url: str) -> StreamFn:
    return OllamaInlineProvider(model_id="bench", base_url=base_url).stream_inline_completions


def builtin(base_url: str) -> StreamFn:
    return OllamaProvider(model_id="bench", base_url=base_url).stream_inline_completions


async def bench_burst(config: Config) -> list[BurstResult]:
    return [
        await typing_burst("OllamaInlineProvider (ours)", ours, config),
        await typing_burst("Jupyter AI OllamaProvider (ChatOllama)", builtin, config),
    ]


# -- 3. context extraction ---------------------------------------------------------------------

CODE_LINES = [
    'df = pd.read_csv("data/sales_{i}.csv", parse_dates=["date"])',
    'df = df.dropna(subset=["amount", "region"]).reset_index(drop=True)',
    'df["month"] = df["date"].dt.to_period("M").astype(str)',
    'monthly_{i} = df.groupby(["region", "month"])["amount"].sum()',
    "print(monthly_{i}.tail({n}))",
    "fig, ax = plt.subplots(figsize=(8, 4))",
    'monthly_{i}.unstack(0).plot(ax=ax, title="Sales by region {i}")',
    "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state={n})",
    "model_{i} = LinearRegression().fit(X_train, y_train)",
    "score_{i} = r2_score(y_test, model_{i}.predict(X_test))",
    'results.append({{"run": {i}, "score": score_{i}}})',
    'for column in ["amount", "price", "quantity"]:',
    "    df[column] = df[column].clip(lower=0).astype(float)",
    "def normalise_{i}(values):",
    "    return (values - values.mean()) / values.std(ddof=1)",
]


def code_source(rng: random.Random, i: int) -> str:
    """3-8 consecutive lines of the pool, about 150-300 characters."""
    start = rng.randrange(len(CODE_LINES))
    lines: list[str] = []
    while len(lines) < 3 or (len(lines) < 8 and sum(map(len, lines)) < 150):
        template = CODE_LINES[(start + len(lines)) % len(CODE_LINES)]
        lines.append(template.format(i=i, n=rng.randrange(2, 20)))
    return "\n".join(lines)


def notebook_cells(code_cells: int, with_outputs: bool) -> list[dict[str, Any]]:
    rng = random.Random(code_cells)
    row = "epoch {:5d}  loss 0.{:06d}  accuracy 0.{:04d}\n"
    rows = OUTPUT_CHARS_PER_CODE_CELL // len(row.format(0, 0, 0))
    text = "".join(row.format(k, 999999 - k, k % 10000) for k in range(rows))
    output = {"output_type": "stream", "name": "stdout", "text": text}
    cells: list[dict[str, Any]] = []
    for i in range(code_cells):
        if i % 5 == 0:
            prose = f"## Step {i // 5 + 1}\n\nLoad, clean and summarise the sales of part {i}."
            cells.append(
                {"cell_type": "markdown", "id": f"md-{i}", "metadata": {}, "source": prose}
            )
        cells.append(
            {
                "cell_type": "code",
                "id": f"code-{i}",
                "metadata": {},
                "execution_count": i + 1,
                "source": code_source(rng, i),
                "outputs": [output] if with_outputs else [],
            }
        )
    return cells


def build_notebook(cells: list[dict[str, Any]]) -> YNotebook:
    notebook = YNotebook()
    notebook.set({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    return notebook


def elapsed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def fork(notebook: YNotebook) -> Doc:
    copy: Doc = Doc()
    copy.apply_update(notebook.ydoc.get_update())
    return copy


@dataclass
class ContextResult:
    code_cells: int
    outputs_mb: float
    cold_ms: float
    warm_median_ms: float
    warm_max_ms: float
    above_cells: int  # cells of context the prompt took
    naive_source_ms: float
    naive_fork_ms: float


def bench_context_one(code_cells: int, with_outputs: bool, config: Config) -> ContextResult:
    cells = notebook_cells(code_cells, with_outputs)
    notebook = build_notebook(cells)
    cell_id = f"code-{code_cells - 2}"  # near the end: one code cell below
    source = next(cell["source"] for cell in cells if cell["id"] == cell_id)
    cut = len(source) // 2
    request = CompletionRequest(
        prefix=source[:cut],
        suffix=source[cut:],
        language="python",
        path="bench.ipynb",
        cell_id=cell_id,
    )
    read = functools.partial(
        with_neighbours,
        notebook,
        cell_id,
        functools.partial(build_prompt, request, ContextBudget()),
    )
    cold = elapsed_ms(read)
    warm = [elapsed_ms(read) for _ in range(config.warm_calls)]
    prompt = read()
    assert prompt is not None and prompt.above, "the cell was not found"
    return ContextResult(
        code_cells=code_cells,
        outputs_mb=round(code_cells * OUTPUT_CHARS_PER_CODE_CELL / 2**20, 2) if with_outputs else 0,
        cold_ms=cold,
        warm_median_ms=statistics.median(warm),
        warm_max_ms=max(warm),
        above_cells=len(prompt.above),
        naive_source_ms=statistics.median(
            elapsed_ms(lambda: notebook.source) for _ in range(config.naive_calls)
        ),
        naive_fork_ms=statistics.median(
            elapsed_ms(functools.partial(fork, notebook)) for _ in range(config.naive_calls)
        ),
    )


def bench_context(config: Config) -> list[ContextResult]:
    return [
        bench_context_one(size, with_outputs, config)
        for size in config.context_sizes
        for with_outputs in (False, True)
    ]


# -- report ------------------------------------------------------------------------------------


def report_overhead(results: dict[str, OverheadStats]) -> list[Verdict]:
    print(
        f"## 1. Overhead over the backend's time to first token ({OVERHEAD_TTFT * 1000:.0f} ms)\n"
    )
    headers = [
        "client",
        "requests",
        "median ms",
        "p99 ms",
        "call to server median ms",
        "first token to text median ms",
    ]
    rows = [
        [name, d.samples, d.median_ms, d.p99_ms, d.outbound_median_ms, d.inbound_median_ms]
        for name, d in results.items()
    ]
    print(markdown_table(headers, rows) + "\n")
    ours_ms, floor_ms = results[OURS_OVERHEAD], results[FLOOR_OVERHEAD]
    return [
        Verdict(
            f"provider overhead median <= {OVERHEAD_TARGET_MS:.0f} ms",
            ours_ms.median_ms <= OVERHEAD_TARGET_MS,
            f"median {ours_ms.median_ms:.2f} ms, p99 {ours_ms.p99_ms:.2f} ms; the bare httpx "
            f"floor on the same loop as the fake server is {floor_ms.median_ms:.2f} ms",
        )
    ]


def report_burst(results: list[BurstResult]) -> list[Verdict]:
    print(
        f"## 2. Typing burst: {BURST_INTERVAL * 1000:.0f} ms apart, one slot, "
        f"{1 / BURST_TOKEN_DELAY:.0f} tokens/s, TTFT {BURST_TTFT * 1000:.0f} ms\n"
    )
    headers = [
        "provider",
        "last request: first text ms",
        "tokens generated",
        "tokens shown",
        "generated/shown",
        "replies sent",
        "unfinished at timeout",
        "failed",
        "burst s",
    ]
    rows = [
        [
            r.provider,
            r.last_first_text_ms,
            r.tokens_generated,
            r.tokens_shown,
            r.ratio,
            r.replies,
            r.unfinished,
            r.failed,
            r.seconds,
        ]
        for r in results
    ]
    print(markdown_table(headers, rows) + "\n")
    limit_ms = BURST_TTFT * 1000 + BURST_FIRST_TEXT_SLACK_MS
    verdicts: list[Verdict] = []
    for r in results:
        first = r.last_first_text_ms
        verdicts.append(
            Verdict(
                f"{r.provider}: last request's first text <= {limit_ms:.0f} ms",
                first is not None and first <= limit_ms,
                "no text" if first is None else f"{first:.1f} ms",
            )
        )
        verdicts.append(ratio_verdict(r))
    return verdicts


def report_context(results: list[ContextResult]) -> list[Verdict]:
    print("## 3. Notebook context extraction (`with_neighbours` + `build_prompt`)\n")
    headers = [
        "code cells",
        "outputs MB",
        "cold ms",
        "warm median ms",
        "warm max ms",
        "cells above in prompt",
        "naive `.source` ms",
        "naive fork ms",
    ]
    rows = [list(asdict(r).values()) for r in results]
    print(markdown_table(headers, rows) + "\n")
    largest = max(r.code_cells for r in results)
    at_largest = [r for r in results if r.code_cells == largest]
    worst = max(at_largest, key=lambda r: r.warm_median_ms)
    by_size: dict[int, list[ContextResult]] = {}
    for r in results:
        by_size.setdefault(r.code_cells, []).append(r)
    # one-sided: outputs must not make it slower (faster is timing noise at sub-ms scale)
    growth = {
        size: max(r.warm_median_ms for r in pair if r.outputs_mb)
        / min(r.warm_median_ms for r in pair if not r.outputs_mb)
        for size, pair in by_size.items()
    }
    return [
        Verdict(
            f"warm <= {CONTEXT_WARM_TARGET_MS:.0f} ms at {largest} code cells",
            worst.warm_median_ms <= CONTEXT_WARM_TARGET_MS,
            f"{worst.warm_median_ms:.2f} ms with {worst.outputs_mb} MB of outputs",
        ),
        Verdict(
            f"flat in output size (with/without outputs <= {CONTEXT_FLAT_FACTOR}x)",
            all(g <= CONTEXT_FLAT_FACTOR for g in growth.values()),
            ", ".join(f"{size} cells: {g:.2f}x" for size, g in growth.items()),
        ),
    ]


async def bench_async(config: Config) -> tuple[dict[str, OverheadStats], list[BurstResult]]:
    try:
        return await bench_overhead(config), await bench_burst(config)
    finally:
        await aclose_clients()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~20 s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    started = time.perf_counter()
    overheads, burst = asyncio.run(bench_async(config))
    context = bench_context(config)
    print(f"# jupyter-ai-inline benchmark ({'quick' if args.quick else 'full'})\n")
    verdicts = [*report_overhead(overheads), *report_burst(burst), *report_context(context)]
    print_verdicts(verdicts)
    runtime = time.perf_counter() - started
    print(f"\nTotal runtime: {runtime:.1f} s")
    if args.json is not None:
        numbers = {
            "mode": "quick" if args.quick else "full",
            "runtime_s": runtime,
            "overhead": {name: asdict(d) for name, d in overheads.items()},
            "burst": [{**asdict(r), "ratio": r.ratio} for r in burst],
            "context": [asdict(r) for r in context],
            "verdicts": [asdict(v) for v in verdicts],
        }
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
