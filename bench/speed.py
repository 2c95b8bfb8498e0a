"""How fast does ghost text appear? In a browser, and where the time goes.

Run from the repository root (the `local` and `test` extras; the `browser` section also needs
Node, `ui-tests/node_modules` (Playwright), Debian's chromium and the built frontend)::

    python bench/speed.py                                 # every section (~12 min)
    python bench/speed.py --sections browser              # time to ghost text (~2.5 min)
    python bench/speed.py --sections browser --collaboration
    python bench/speed.py --sections overhead,burst,suggestions,repack,context   # (~3 min)
    python bench/speed.py --sections overhead,burst,context --servers fake       # (~1 min)
    python bench/speed.py --sections next-cell            # (~6 min)
    python bench/speed.py --quick                         # smoke run for CI: every section

Sections, each printed as a Markdown table (docs/benchmarks.md says how each is measured):

* browser: last keystroke -> visible ghost text in JupyterLab (chromium, Playwright driven
  by `bench/browser/ghost_text.js`) with the managed default model (gemma 3 270M), cold
  prompts: (a) a cell focused 2 s before typing, (b) typing at once after Shift+Enter, (c) the
  next keystroke, (d) typing along a suggestion, (e) typing at once in the first cell clicked
  in a notebook opened 10 s before (`--background-warm-ups off` to compare); tokens generated
  per token shown.
* overhead: time to the first visible text from the model server alone (a bare httpx
  stream), through our provider and through our websocket (a real `jupyter server`), on the
  `--servers` (a loopback fake model server on the Ollama API, whose own clock also gives
  each arm's time over its first token; the tiny FIM model; gemma).
* burst: ten keystroke requests 150 ms apart on a one-slot server, ours beside Jupyter AI 2's
  provider (on the fake: its Ollama provider; on llama-server: "OpenAI (general interface)").
* suggestions: 1, 2 and 4 suggestions at once on as many slots (`--model`).
* next-cell: the next cell's prompt once the last one's is cached, the cells above anchored
  (ours) or cut to exactly the budget (before), with and without `--cache-reuse 256`.
* context: reading the cells around the cursor from a live `YNotebook`, beside naive reads.
* repack: llama-server's own prompt and generation tokens/s with and without `--no-repack`
  (`--model`; not run on a CPU with AMX).

Then the peak RSS of every llama-server started (the browser's is Jupyter's own). `--quick`
runs every section's code with the tiny model where it can and very few requests: its
numbers mean nothing. Other work on the same cores shows up in every number: the run ends
with the CPU time other processes took meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from jupyter_ai_magics.models.completion import (
    InlineCompletionReply,
    InlineCompletionRequest,
    InlineCompletionStreamChunk,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` and `tests` are the packages there

from bench import browser, harness  # noqa: E402
from bench.harness import Tab, Verdict, markdown_table, percentile  # noqa: E402
from jupyter_ai_inline.engine import CellText, CompletionRequest, ContextBudget  # noqa: E402
from jupyter_ai_inline.engine.backends.llamacpp import LlamaCppBackend  # noqa: E402
from jupyter_ai_inline.engine.models import BackendSettings, FimPrompt  # noqa: E402
from jupyter_ai_inline.engine.prompt import build_prompt, render_cell, take_above  # noqa: E402
from jupyter_ai_inline.local.cpu import has_amx, read_cpuinfo  # noqa: E402
from jupyter_ai_inline.providers import LlamaCppInlineProvider, OllamaInlineProvider  # noqa: E402
from tests.support.completion import inline_request  # noqa: E402
from tests.support.fake_backend import FakeBackend  # noqa: E402
from tests.support.llama_slots import predicted_tokens, prompt_tokens  # noqa: E402

SECTIONS = ("browser", "overhead", "burst", "suggestions", "next-cell", "context", "repack")
SERVERS = ("fake", "tiny", "gemma")
SERVER_NAMES = {"fake": "fake model server (Ollama API)", **harness.MODELS}
CTX_PER_SLOT = 2048
REQUEST_TIMEOUT = 60.0  # s, one request read to its end
IDLE_TIMEOUT = 30.0  # s, for the server to finish (or drop) every generation

T = TypeVar("T")


# -- model servers -----------------------------------------------------------------------------


@dataclass
class ModelServer:
    """A model server of the benchmark: the loopback fake (Ollama API) or a llama-server."""

    key: str  # fake, tiny, gemma
    url: str
    fake: FakeBackend | None = None

    @property
    def name(self) -> str:
        return SERVER_NAMES[self.key]

    @property
    def backend(self) -> str:
        return "ollama" if self.fake else "llamacpp"

    def provider(self, **fields: Any) -> OllamaInlineProvider | LlamaCppInlineProvider:
        """Our Jupyter AI provider for this server."""
        if self.fake:
            return OllamaInlineProvider(model_id="bench", base_url=self.url, **fields)
        return LlamaCppInlineProvider(model_id="local", base_url=self.url, **fields)


@contextlib.asynccontextmanager
async def model_server(
    key: str, workdir: Path, label: str, slots: int = 1, extra_args: Sequence[str] = (), **fake
) -> AsyncIterator[ModelServer]:
    """The fake with `fake`'s settings, or a managed llama-server of 2 threads and
    CTX_PER_SLOT tokens of context per slot."""
    if key == "fake":
        async with FakeBackend(slots=slots, **fake) as server:
            yield ModelServer(key, server.url, server)
        return
    model = await asyncio.to_thread(harness.model_file, key, workdir)
    async with harness.llama_server(
        model, label, extra_args, parallel=slots, ctx_size=CTX_PER_SLOT * slots, threads=2
    ) as url:
        yield ModelServer(key, url)


def ms(seconds: Iterable[float]) -> float:
    return statistics.median(seconds) * 1000


# -- overhead: time to the first visible text --------------------------------------------------

OVERHEAD_TOKENS = 8
OVERHEAD_WARMUP = 3  # rounds of all arms before measuring
OVERHEAD_REQUESTS = {"fake": 200, "tiny": 30, "gemma": 30}  # per arm
OVERHEAD_TARGET_MS = 5.0  # over the server alone
FAKE_OVERHEAD_TARGET_MS = 2.0  # our provider over the fake's own first token
FAKE_OVERHEAD = {"tokens": ["x", " =", " 1"], "first_token_delay": 0.02, "token_delay": 0.005}
"""The fake's time to its first token, then tokens at leisure (it never delays the client)."""

Sample = tuple[float, float]
"""Seconds to the first token and to the first visible text (the same for our arms, which
only see text)."""

RETRYABLE = (httpx.RemoteProtocolError, httpx.ReadError, RuntimeError)
"""Failures retried once: llama-server closing a kept-alive connection, seen by our arms as
an error reply (RuntimeError)."""


def prompt(i: int) -> tuple[str, str]:
    """A prompt of the same shape and length for every request, with a fresh number in it
    (so that no arm hits another's prompt cache)."""
    return f"values_{i} = [{i}, {i + 1}, {i + 2},", "]\nprint(values)\n"


async def retried(
    arm: str, measure: Callable[[int], Awaitable[T]], number: int, retries: Counter[str]
) -> T:
    try:
        return await asyncio.wait_for(measure(number), REQUEST_TIMEOUT)
    except RETRYABLE as exc:
        print(f"retrying {arm} request {number}: {exc!r}", file=sys.stderr)
        retries[arm] += 1
        return await asyncio.wait_for(measure(number), REQUEST_TIMEOUT)


async def server_sample(
    client: httpx.AsyncClient, server: ModelServer, mode: str, i: int
) -> Sample:
    """A bare httpx stream of the server's own API, read to its end."""
    prefix, suffix = prompt(i)
    if server.fake:
        path = "/api/generate"
        body: dict[str, Any] = {"model": "bench", "prompt": prefix, "suffix": suffix}
    elif mode == "infill":
        path, body = "/infill", {"input_prefix": prefix, "input_suffix": suffix}
    else:
        path, body = "/completion", {"prompt": prefix}
    body |= {"n_predict": OVERHEAD_TOKENS, "temperature": 0.0, "cache_prompt": True, "stream": True}
    started = time.perf_counter()
    first = visible = None
    async with client.stream("POST", server.url + path, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if server.fake:  # NDJSON
                data = json.loads(line) if line.strip() else {}
                text, stop = data.get("response", ""), data.get("done")
            elif line.startswith("data:"):  # SSE
                data = json.loads(line[5:])
                text, stop = data.get("content", ""), data.get("stop")
            else:
                continue
            now = time.perf_counter() - started
            if first is None and (text or data.get("tokens") or stop):
                first = now
            if visible is None and (text.strip() or stop):
                visible = now
            # read to the end, so the slot is free for the next request
    assert first is not None and visible is not None, "the server sent no text"
    return first, visible


async def provider_sample(provider: Any, i: int) -> Sample:
    """Our provider's stream: to the first chunk with text, or its `done` chunk if it shows
    none (the random-weight model often produces nothing printable)."""
    prefix, suffix = prompt(i)
    request = inline_request(i, prefix=prefix, suffix=suffix, mime="text/x-python")
    started = time.perf_counter()
    first = None
    async for reply in provider.stream_inline_completions(request):
        if isinstance(reply, InlineCompletionReply):
            continue
        if reply.done and reply.error is not None:
            raise RuntimeError(reply.error.title)
        if first is None and (reply.response.insertText or reply.done):
            first = time.perf_counter() - started
    assert first is not None, "the provider showed no text"
    return first, first


async def websocket_sample(tab: Tab, i: int) -> Sample:
    first = await tab.first_text(i, *prompt(i))
    return first, first


def fake_own_ttft(fake: FakeBackend, i: int) -> float:
    """The fake's own seconds from receiving request `i` to sending its first token."""
    marker = json.dumps(prompt(i)[0])[1:-1]
    generation = next(g for g in reversed(fake.generations) if marker in json.dumps(g.body))
    received = next(r for r in reversed(fake.requests) if r.body is generation.body)
    assert generation.first_token_at is not None, "the fake sent no token"
    return generation.first_token_at - received.received_at


@dataclass
class OverheadResult:
    server: str
    mode: str
    requests: int
    server_first_token_ms: float
    server_first_visible_ms: float
    provider_ms: float
    websocket_ms: float
    retried: str
    # the fake only: each arm's times less the fake's own time to its first token
    over_own_first_token_ms: dict[str, list[float]] = field(default_factory=dict)

    @property
    def provider_overhead_ms(self) -> float:
        return self.provider_ms - self.server_first_visible_ms

    @property
    def websocket_overhead_ms(self) -> float:
        return self.websocket_ms - self.server_first_visible_ms


async def bench_overhead(key: str, requests: int, workdir: Path) -> OverheadResult:
    """Requests alternate between the three arms, each going first in turn."""
    fake = FAKE_OVERHEAD if key == "fake" else {}
    async with (
        model_server(key, workdir, "overhead", **fake) as server,
        harness.jupyter_server(
            server.url, workdir / f"jupyter-{key}", backend=server.backend
        ) as jupyter,
        Tab.opened(jupyter, OVERHEAD_TOKENS, until_mode=not server.fake) as tab,
        httpx.AsyncClient(timeout=60) as client,
    ):
        provider = server.provider(max_tokens=OVERHEAD_TOKENS)
        mode = "Ollama API"
        if not server.fake:
            mode = await provider.completer.backend.detect_mode()
            assert mode is not None, "llama-server answered neither /infill nor /completion"
        arms: dict[str, Callable[[int], Awaitable[Sample]]] = {
            "server": functools.partial(server_sample, client, server, mode),
            "provider": functools.partial(provider_sample, provider),
            "websocket": functools.partial(websocket_sample, tab),
        }
        samples: dict[str, list[Sample]] = {arm: [] for arm in arms}
        own: dict[str, list[float]] = {arm: [] for arm in arms}
        retries: Counter[str] = Counter()
        names = list(arms)
        for i in range(-OVERHEAD_WARMUP, requests):
            turn = i % len(names)  # each arm goes first in turn
            for j, arm in enumerate(names[turn:] + names[:turn]):
                number = 100 + len(names) * i + j
                sample = await retried(arm, arms[arm], number, retries)
                if i >= 0:
                    samples[arm].append(sample)
                    if server.fake:
                        own[arm].append((sample[1] - fake_own_ttft(server.fake, number)) * 1000)
    return OverheadResult(
        server=server.name,
        mode=mode,
        requests=requests,
        server_first_token_ms=ms(first for first, _ in samples["server"]),
        server_first_visible_ms=ms(visible for _, visible in samples["server"]),
        provider_ms=ms(visible for _, visible in samples["provider"]),
        websocket_ms=ms(visible for _, visible in samples["websocket"]),
        retried=", ".join(f"{retries[arm]} {arm}" for arm in names),
        over_own_first_token_ms=own if server.fake else {},
    )


OWN_ARMS = {
    "server": "bare httpx stream (the harness floor)",
    "provider": "our provider",
    "websocket": "our websocket",
}


def report_overhead(results: list[OverheadResult]) -> list[Verdict]:
    print("## Time to first visible text: server alone, our provider, our websocket\n")
    headers = [
        "model server", "mode", "requests", "server first token ms", "server first visible ms",
        "provider ms", "websocket ms", "provider overhead ms", "websocket overhead ms",
        "retried",
    ]  # fmt: skip
    rows = [
        [
            r.server, r.mode, r.requests, r.server_first_token_ms, r.server_first_visible_ms,
            r.provider_ms, r.websocket_ms, r.provider_overhead_ms, r.websocket_overhead_ms,
            r.retried,
        ]
        for r in results
    ]  # fmt: skip
    print(markdown_table(headers, rows) + "\n")
    verdicts = [
        Verdict(
            f"{r.server}: {arm} overhead median <= {OVERHEAD_TARGET_MS:.0f} ms",
            overhead <= OVERHEAD_TARGET_MS,
            f"{overhead:.2f} ms over the server alone ({r.server_first_visible_ms:.2f} ms)",
        )
        for r in results
        for arm, overhead in (
            ("provider", r.provider_overhead_ms),
            ("websocket", r.websocket_overhead_ms),
        )
    ]
    for r in results:
        if not r.over_own_first_token_ms:
            continue
        ttft = FAKE_OVERHEAD["first_token_delay"] * 1000
        print(f"### Over the fake server's own time to its first token ({ttft:.0f} ms)\n")
        headers = ["client", "requests", "median ms", "p99 ms"]
        own = r.over_own_first_token_ms
        rows = [
            [OWN_ARMS[arm], len(v), statistics.median(v), percentile(v, 99)]
            for arm, v in own.items()
        ]
        print(markdown_table(headers, rows) + "\n")
        ours, floor = statistics.median(own["provider"]), statistics.median(own["server"])
        verdicts.append(
            Verdict(
                f"provider over the fake's first token, median <= {FAKE_OVERHEAD_TARGET_MS:.0f} ms",
                ours <= FAKE_OVERHEAD_TARGET_MS,
                f"median {ours:.2f} ms, p99 {percentile(own['provider'], 99):.2f} ms; the bare "
                f"httpx floor on the same loop as the fake server is {floor:.2f} ms",
            )
        )
    return verdicts


# -- burst: a typing burst on one slot ---------------------------------------------------------

Reply = InlineCompletionReply | InlineCompletionStreamChunk
StreamFn = Callable[[InlineCompletionRequest], AsyncIterator[Reply]]

BURST_INTERVAL = 0.15  # s between keystroke requests
BURST_TIMEOUT = 60.0  # s, bound on one provider's burst
BURST_FIRST_TEXT_SLACK_MS = 50.0
BURST_RATIO_TARGET = 1.2
BURST_TOKENS = 64  # max_tokens of both arms on llama-server, of ours on the fake
FAKE_BURST = {"first_token_delay": 0.1, "token_delay": 0.05}  # 20 tokens/s
FAKE_BURST_TOKENS = {"full": 60, "quick": 40}  # what the fake generates
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


def code_tokens(count: int) -> list[str]:
    """The first `count` word-or-symbol pieces of BURST_CODE, like a code model's tokens."""
    tokens = re.findall(r"\s*\w+|\s*[^\w\s]", BURST_CODE)
    assert len(tokens) >= count, len(tokens)
    return tokens[:count]


def burst_requests(count: int) -> list[InlineCompletionRequest]:
    """Keystrokes in one cell: the same (path, cell_id), the prefix one character longer.

    The typed line is a comment, so the generated code (a new line) never repeats it: a
    repetition would be held back as a possible echo and delay the first text.
    """
    typed = "# total sales per region and month"
    base = 'import pandas as pd\n\ndf = pd.read_csv("sales.csv")\n'
    return [
        inline_request(
            n + 1, prefix=base + typed[: n + 1], language="python", path="bench.ipynb",
            cell_id="cell-burst",
        )
        for n in range(count)
    ]  # fmt: skip


async def send_burst(
    stream: StreamFn, requests: Sequence[InlineCompletionRequest]
) -> tuple[list[StreamRecord], list[Exception], int, float]:
    """Each request in its own never-cancelled task, as Jupyter AI's handler runs them,
    BURST_INTERVAL apart; wait for all (bounded by BURST_TIMEOUT, then cancelled). Records,
    failures, unfinished count and seconds."""
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


@dataclass
class FakeMeter:
    """The fake's counts; a shown text's tokens are those the fake sent for the last request
    it received, which must be the burst's last."""

    fake: FakeBackend
    last_prefix: str

    async def generated(self) -> int:
        return self.fake.tokens_generated

    async def idle(self) -> None:
        await self.fake.wait_until(lambda: self.fake.active == 0, IDLE_TIMEOUT)

    async def shown(self, texts: Sequence[str]) -> int:
        last = self.fake.requests[-1]
        escaped_prefix = json.dumps(self.last_prefix)[1:-1]
        assert escaped_prefix in json.dumps(last.body), "the server got the burst out of order"
        return next((g.tokens_sent for g in self.fake.generations if g.body is last.body), 0)


@dataclass
class BurstResult:
    server: str
    provider: str
    idle_first_text_ms: float | None  # the newest request sent alone, server idle
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


def burst_arms(server: ModelServer) -> dict[str, Callable[[], StreamFn]]:
    """Ours and Jupyter AI 2's provider of the same server, with the same token limit on
    llama-server (Jupyter AI's default, none, would generate until the context is full)."""

    def ours() -> StreamFn:
        return server.provider(max_tokens=BURST_TOKENS).stream_inline_completions

    def jupyter_ai_ollama() -> StreamFn:
        from jupyter_ai_magics.partner_providers.ollama import OllamaProvider

        return OllamaProvider(model_id="bench", base_url=server.url).stream_inline_completions

    def jupyter_ai_openai() -> StreamFn:
        from jupyter_ai_magics.partner_providers.openai import ChatOpenAICustomProvider

        return ChatOpenAICustomProvider(
            model_id="gemma-3-270m",
            openai_api_base=f"{server.url}/v1",
            openai_api_key="unused",
            max_tokens=BURST_TOKENS,
        ).stream_inline_completions

    if server.fake:
        return {
            "OllamaInlineProvider (ours)": ours,
            "Jupyter AI OllamaProvider (ChatOllama)": jupyter_ai_ollama,
        }
    return {
        "LlamaCppInlineProvider (ours)": ours,
        "Jupyter AI ChatOpenAICustomProvider (/v1/chat/completions)": jupyter_ai_openai,
    }


async def typing_burst(
    server: ModelServer, name: str, stream: StreamFn, meter: harness.Meter, count: int
) -> BurstResult:
    requests = burst_requests(count)
    # The last two keystrokes' requests alone: the newest then finds the server idle, its
    # prompt cache holding the previous keystroke's prompt as in the burst.
    for number, request in enumerate(requests[-2:], start=1000):
        idle = StreamRecord(time.perf_counter())
        alone = request.model_copy(update={"number": number})
        await asyncio.wait_for(consume(stream, alone, idle), REQUEST_TIMEOUT)
        await meter.idle()
    before = await meter.generated()
    records, failed, unfinished, seconds = await send_burst(stream, requests)
    await meter.idle()
    for error in failed:
        print(f"<!-- {name}: a request failed: {error!r} -->", file=sys.stderr)
    return BurstResult(
        server=server.name,
        provider=name,
        idle_first_text_ms=idle.first_text_ms,
        last_first_text_ms=records[-1].first_text_ms,
        tokens_generated=await meter.generated() - before,
        tokens_shown=await meter.shown([records[-1].final_text]),
        replies=sum(len(record.replies) for record in records),
        unfinished=unfinished,
        failed=len(failed),
        seconds=seconds,
    )


async def bench_burst(key: str, count: int, workdir: Path, quick: bool) -> list[BurstResult]:
    """Each provider on a fresh one-slot server of its own."""
    fake = {}
    if key == "fake":
        tokens = code_tokens(FAKE_BURST_TOKENS["quick" if quick else "full"])
        fake = {"tokens": tokens, **FAKE_BURST}
    last = burst_requests(count)[-1].prefix
    results = []
    for arm in range(2):  # ours, then Jupyter AI's
        async with model_server(key, workdir, "burst", **fake) as server:
            name, make = list(burst_arms(server).items())[arm]
            meter = FakeMeter(server.fake, last) if server.fake else harness.LlamaMeter(server.url)
            results.append(await typing_burst(server, name, make(), meter, count))
    return results


def report_burst(results: list[BurstResult], count: int) -> list[Verdict]:
    print(
        f"## Typing burst: {count} requests {BURST_INTERVAL * 1000:.0f} ms apart, one slot, "
        f"{BURST_TOKENS} tokens at most (the fake: its own length, "
        f"{1 / FAKE_BURST['token_delay']:.0f} tokens/s after "
        f"{FAKE_BURST['first_token_delay'] * 1000:.0f} ms)\n"
    )
    headers = [
        "model server", "provider", "idle: first text ms", "newest: first text ms",
        "tokens generated", "tokens shown", "generated/shown", "replies", "unfinished",
        "failed", "burst s",
    ]  # fmt: skip
    rows = [
        [
            r.server, r.provider, r.idle_first_text_ms, r.last_first_text_ms,
            r.tokens_generated, r.tokens_shown, r.ratio, r.replies, r.unfinished, r.failed,
            r.seconds,
        ]
        for r in results
    ]  # fmt: skip
    print(markdown_table(headers, rows) + "\n")
    slack = BURST_FIRST_TEXT_SLACK_MS
    verdicts: list[Verdict] = []
    for r in results:
        first, idle = r.last_first_text_ms, r.idle_first_text_ms
        verdicts.append(
            Verdict(
                f"{r.server}, {r.provider}: newest first text <= idle + {slack:.0f} ms",
                first is not None and idle is not None and first <= idle + slack,
                f"newest {first if first is None else round(first, 1)} ms, "
                f"idle {idle if idle is None else round(idle, 1)} ms",
            )
        )
        verdicts.append(
            Verdict(
                f"{r.server}, {r.provider}: generated/shown <= {BURST_RATIO_TARGET}",
                r.ratio is not None and r.ratio <= BURST_RATIO_TARGET,
                f"{r.tokens_generated} generated / {r.tokens_shown} shown",
            )
        )
    return verdicts


# -- suggestions: several at once --------------------------------------------------------------

SUGGESTION_TOKENS = 48


@dataclass
class SuggestionsResult:
    suggestions: int
    runs: int
    first_text_ms: float
    all_done_ms: float
    distinct_shown: float  # median count of distinct non-empty suggestions
    tokens_per_run: float


async def suggestions_run(provider: Any, number: int) -> tuple[float, float, int]:
    """Seconds to the first text and to the end of the stream, and the distinct non-empty
    suggestions shown."""
    prefix = f"def moving_average_{number}(values, window):\n"
    request = inline_request(number, prefix=prefix, mime="text/x-python")
    record = StreamRecord(time.perf_counter())
    await asyncio.wait_for(
        consume(provider.stream_inline_completions, request, record), REQUEST_TIMEOUT
    )
    ended = time.perf_counter()
    final: dict[str | None, str] = {}
    for reply in record.replies:
        if isinstance(reply, InlineCompletionStreamChunk) and reply.done:
            if reply.error is not None:
                raise RuntimeError(reply.error.title)
            final[reply.response.token] = reply.response.insertText
    first = record.first_text_at if record.first_text_at is not None else ended
    distinct = len({text for text in final.values() if text})
    return first - record.sent_at, ended - record.sent_at, distinct


async def bench_suggestions(key: str, count: int, runs: int, workdir: Path) -> SuggestionsResult:
    async with model_server(key, workdir, f"suggestions={count}", slots=count) as server:
        provider = server.provider(max_tokens=SUGGESTION_TOKENS, suggestions=count)
        await suggestions_run(provider, 0)  # warm-up
        meter = harness.LlamaMeter(server.url)
        await meter.idle()
        before = await predicted_tokens(server.url)
        samples = [await suggestions_run(provider, 1 + run) for run in range(runs)]
        await meter.idle()
        generated = await predicted_tokens(server.url) - before
    return SuggestionsResult(
        suggestions=count,
        runs=runs,
        first_text_ms=ms(first for first, _, _ in samples),
        all_done_ms=ms(done for _, done, _ in samples),
        distinct_shown=statistics.median(distinct for _, _, distinct in samples),
        tokens_per_run=generated / runs,
    )


def report_suggestions(results: list[SuggestionsResult], model: str) -> None:
    print(f"## Suggestions at once, as many slots ({model}, {SUGGESTION_TOKENS} tokens at most)\n")
    one = next((r.all_done_ms for r in results if r.suggestions == 1), None)
    headers = [
        "suggestions = slots", "runs", "first text ms", "all done ms", "all done vs 1",
        "distinct shown", "tokens generated per run",
    ]  # fmt: skip
    rows = [
        [
            r.suggestions, r.runs, r.first_text_ms, r.all_done_ms,
            None if one is None else r.all_done_ms / one, r.distinct_shown, r.tokens_per_run,
        ]
        for r in results
    ]  # fmt: skip
    print(markdown_table(headers, rows) + "\n")


# -- next-cell: the prompt cache when moving on ------------------------------------------------

BUDGET = ContextBudget()
Rule = Callable[[list[CellText]], tuple[str, ...]]


def cut_to_budget(cells: Iterable[CellText]) -> tuple[str, ...]:
    """The rule before the anchoring: nearest first until the budget is spent, the farthest
    cell cut to fit (its end kept)."""
    taken: list[str] = []
    left = BUDGET.above_chars
    for cell in cells:
        if left <= 0:
            break
        if cell.source.strip():
            text = render_cell(cell, "python", BUDGET)[-left:]
            taken.append(text)
            left -= len(text) + 2
    return tuple(reversed(taken))


RULES: dict[str, Rule] = {
    "anchored (ours)": lambda cells: take_above(cells, "python", BUDGET),
    "cut to the budget": cut_to_budget,
}


def cell_prompt(cells: list[dict[str, str]], index: int, rule: Rule) -> FimPrompt:
    """The default model's `/completion` prompt of a cell: the cells above, then its text."""
    above = [CellText(kind=c["cell_type"], source=c["source"]) for c in cells[:index]]  # type: ignore[arg-type]
    return FimPrompt(prefix=cells[index]["source"], suffix="", above=rule(above[::-1]))


async def next_cell(url: str, first: FimPrompt, second: FimPrompt) -> tuple[int, int, float]:
    """Tokens evaluated for `first` (from an empty slot), then for `second`, and the
    seconds of the second."""
    backend = LlamaCppBackend(BackendSettings(base_url=url, model="bench"))
    async with httpx.AsyncClient(timeout=30) as client:
        await harness.erase_slots(client, url, 1)
    start = await prompt_tokens(url)
    await backend.warm(first)
    middle = await prompt_tokens(url)
    started = time.perf_counter()
    await backend.warm(second)
    seconds = time.perf_counter() - started
    end = await prompt_tokens(url)
    return middle - start, end - middle, seconds


async def bench_next_cell(args: argparse.Namespace, workdir: Path) -> list[list[Any]]:
    """Pairs of a task's cell and the next one, in notebooks long enough that the window of
    cells above moves (twice the budget), one per notebook."""
    tasks, notebooks = harness.load_tasks(args.data)
    pairs: list[tuple[list[dict[str, str]], int]] = []
    seen: set[str] = set()
    for task in tasks:
        cells = notebooks[task.notebook].cells
        if task.notebook in seen or task.cell_index + 1 >= len(cells):
            continue
        above = sum(len(c["source"]) for c in cells[: task.cell_index])
        if above >= 2 * BUDGET.above_chars:
            seen.add(task.notebook)
            pairs.append((cells, task.cell_index))
        if len(pairs) >= args.pairs:
            break
    model = await asyncio.to_thread(harness.default_model, args.gguf)
    (workdir / "slots").mkdir(exist_ok=True)
    rows = []
    for setting, extra in (("default", []), ("--cache-reuse 256", ["--cache-reuse", "256"])):
        extra = ["--slot-save-path", str(workdir / "slots"), *extra]
        async with harness.llama_server(model, f"next-cell {setting}", extra, threads=2) as url:
            for name, rule in RULES.items():
                prompts = [(cell_prompt(c, i, rule), cell_prompt(c, i + 1, rule)) for c, i in pairs]
                results = [await next_cell(url, *pair) for pair in prompts]
                firsts = [r[0] for r in results]
                seconds = [r[1] for r in results]
                times = [r[2] * 1000 for r in results]
                reused = [max(0.0, 1 - s / f) for f, s in zip(firsts, seconds, strict=True)]
                rows.append([
                    setting, name, len(results), f"{percentile(firsts, 50):,.0f}",
                    f"{percentile(seconds, 50):,.0f}", f"{percentile(reused, 50) * 100:.0f} %",
                    f"{percentile(times, 50):,.0f}", f"{percentile(times, 90):,.0f}",
                ])  # fmt: skip
                print(f"[next-cell] {setting}, {name}: {rows[-1][3:]}", file=sys.stderr)
    return rows


def report_next_cell(rows: list[list[Any]]) -> None:
    print(
        "## The next cell's prompt after the last one's is cached (gemma 3 270M, one slot, "
        f"{BUDGET.above_chars:,} characters above)\n"
    )
    headers = [
        "llama-server", "cells above", "pairs", "tokens, first cell (p50)",
        "tokens evaluated, next cell (p50)", "saved by the cache (p50)",
        "next cell ms p50", "p90",
    ]  # fmt: skip
    print(markdown_table(headers, rows) + "\n")


# -- context: the cells around the cursor from a live YNotebook --------------------------------

CONTEXT_SIZES = (10, 100, 1000)  # code cells
CONTEXT_CALLS = {"full": (50, 5), "quick": (10, 1)}  # warm calls, naive calls
CONTEXT_WARM_TARGET_MS = 5.0
CONTEXT_FLAT_FACTOR = 1.5  # warm time with outputs at most this times the time without
OUTPUT_CHARS_PER_CODE_CELL = 1024 * 1024 // 100  # 1 MB of outputs per 100 code cells
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
                "cell_type": "code", "id": f"code-{i}", "metadata": {}, "execution_count": i + 1,
                "source": code_source(rng, i), "outputs": [output] if with_outputs else [],
            }
        )  # fmt: skip
    return cells


def elapsed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


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


def bench_context_one(code_cells: int, with_outputs: bool, quick: bool) -> ContextResult:
    """`with_neighbours` + `build_prompt` for a cell near the end (one code cell below),
    the first call (after a structural change) and the next; beside the naive reads: the
    whole `.source`, a fork of the document."""
    from jupyter_ydoc import YNotebook
    from pycrdt import Doc

    from jupyter_ai_inline.notebook_context import with_neighbours

    warm_calls, naive_calls = CONTEXT_CALLS["quick" if quick else "full"]
    cells = notebook_cells(code_cells, with_outputs)
    notebook = YNotebook()
    notebook.set({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    cell_id = f"code-{code_cells - 2}"
    source = next(cell["source"] for cell in cells if cell["id"] == cell_id)
    cut = len(source) // 2
    request = CompletionRequest(
        prefix=source[:cut], suffix=source[cut:], language="python", path="bench.ipynb",
        cell_id=cell_id,
    )  # fmt: skip
    read = functools.partial(
        with_neighbours, notebook, cell_id, functools.partial(build_prompt, request, BUDGET)
    )

    def fork() -> Doc:
        copy: Doc = Doc()
        copy.apply_update(notebook.ydoc.get_update())
        return copy

    cold = elapsed_ms(read)
    warm = [elapsed_ms(read) for _ in range(warm_calls)]
    built = read()
    assert built is not None and built.above, "the cell was not found"
    return ContextResult(
        code_cells=code_cells,
        outputs_mb=round(code_cells * OUTPUT_CHARS_PER_CODE_CELL / 2**20, 2) if with_outputs else 0,
        cold_ms=cold,
        warm_median_ms=statistics.median(warm),
        warm_max_ms=max(warm),
        above_cells=len(built.above),
        naive_source_ms=statistics.median(
            elapsed_ms(lambda: notebook.source) for _ in range(naive_calls)
        ),
        naive_fork_ms=statistics.median(elapsed_ms(fork) for _ in range(naive_calls)),
    )


def report_context(results: list[ContextResult]) -> list[Verdict]:
    print("## Notebook context from a live YNotebook (`with_neighbours` + `build_prompt`)\n")
    headers = [
        "code cells", "outputs MB", "cold ms", "warm median ms", "warm max ms",
        "cells above in prompt", "naive `.source` ms", "naive fork ms",
    ]  # fmt: skip
    print(markdown_table(headers, [list(asdict(r).values()) for r in results]) + "\n")
    largest = max(r.code_cells for r in results)
    worst = max((r for r in results if r.code_cells == largest), key=lambda r: r.warm_median_ms)
    # one-sided: outputs must not make it slower (faster is timing noise at sub-ms scale)
    growth = {
        size: max(r.warm_median_ms for r in results if r.code_cells == size and r.outputs_mb)
        / min(r.warm_median_ms for r in results if r.code_cells == size and not r.outputs_mb)
        for size in {r.code_cells for r in results}
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
            ", ".join(f"{size} cells: {g:.2f}x" for size, g in sorted(growth.items())),
        ),
    ]


# -- repack: llama-server's own speed ----------------------------------------------------------

REPACK_ARMS = {"--repack (default)": ("--repack",), "--no-repack": ("--no-repack",)}
"""Both spelled out: on a CPU with AMX the supervisor would add `--no-repack` to the first."""
REPACK_PROMPT_LINES = 56  # about 1,000 of gemma's tokens
REPACK_TOKENS = 64


@dataclass
class RepackResult:
    arm: str
    runs: int
    prompt_tokens: int
    prompt_tokens_per_s: float
    generated_tokens: int
    generated_tokens_per_s: float


async def repack_sample(client: httpx.AsyncClient, url: str, number: int) -> dict[str, Any]:
    """llama-server's `timings` of one `/completion`: a fresh prompt, no cached prefix."""
    lines = "".join(
        f"value_{number}_{i} = compute({i}, scale={i % 7})\n" for i in range(REPACK_PROMPT_LINES)
    )
    body = {
        "prompt": f"# run {number}\n{lines}", "n_predict": REPACK_TOKENS, "temperature": 0.0,
        "cache_prompt": False, "ignore_eos": True,
    }  # fmt: skip
    response = await client.post(f"{url}/completion", json=body)
    response.raise_for_status()
    return response.json()["timings"]


async def bench_repack(key: str, runs: int, workdir: Path) -> list[RepackResult]:
    """Both arms' servers up at once; requests alternate, each arm first in turn."""
    samples: dict[str, list[dict[str, Any]]] = {arm: [] for arm in REPACK_ARMS}
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            arm: (
                await stack.enter_async_context(
                    model_server(key, workdir, f"repack {arm}", extra_args=extra)
                )
            ).url
            for arm, extra in REPACK_ARMS.items()
        }
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=REQUEST_TIMEOUT))
        names = list(REPACK_ARMS)
        for run in range(-1, runs):  # one warm-up each
            for j, arm in enumerate(names if run % 2 else names[::-1]):
                timings = await repack_sample(client, urls[arm], 2 * (run + 1) + j)
                if run >= 0:
                    samples[arm].append(timings)
    return [
        RepackResult(
            arm=arm,
            runs=len(timings),
            prompt_tokens=timings[0]["prompt_n"],
            prompt_tokens_per_s=statistics.median(t["prompt_per_second"] for t in timings),
            generated_tokens=timings[0]["predicted_n"],
            generated_tokens_per_s=statistics.median(t["predicted_per_second"] for t in timings),
        )
        for arm, timings in samples.items()
    ]


def report_repack(results: list[RepackResult], model: str) -> None:
    print(f"## Weight repacking ({model}, 2 threads, median)\n")
    default = results[0]
    headers = [
        "llama-server", "runs", "prompt tokens", "prompt tok/s", "vs default",
        "generated tokens", "generation tok/s", "vs default",
    ]  # fmt: skip
    rows = [
        [
            r.arm, r.runs, r.prompt_tokens, r.prompt_tokens_per_s,
            r.prompt_tokens_per_s / default.prompt_tokens_per_s, r.generated_tokens,
            r.generated_tokens_per_s, r.generated_tokens_per_s / default.generated_tokens_per_s,
        ]
        for r in results
    ]  # fmt: skip
    print(markdown_table(headers, rows) + "\n")


def report_memory(memory: list[dict[str, Any]]) -> None:
    print("## Peak RSS (VmHWM) of each llama-server\n")
    headers = ["section", "model", "slots", "ctx size", "peak RSS MB"]
    print(markdown_table(headers, [list(m.values()) for m in memory]) + "\n")


# -- the run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    numbers: dict[str, Any] = {"sections": args.sections, "quick": args.quick}
    wanted = set(args.sections)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        workdir = Path(tmp)
        if "browser" in wanted:
            numbers["browser"] = await browser.measure(args, started)
            numbers["failed"] = not all(r.get("cases") for r in numbers["browser"].values())
        if "overhead" in wanted:
            numbers["overhead"] = [
                await bench_overhead(key, args.requests or OVERHEAD_REQUESTS[key], workdir)
                for key in args.servers or SERVERS
            ]
        if "burst" in wanted:
            numbers["burst"] = [
                result
                for key in args.servers or ("fake", "gemma")
                for result in await bench_burst(key, args.burst_requests, workdir, args.quick)
            ]
        if "suggestions" in wanted:
            numbers["suggestions"] = [
                await bench_suggestions(args.model, count, args.runs, workdir)
                for count in args.suggestions
            ]
        if "next-cell" in wanted:
            numbers["next_cell"] = await bench_next_cell(args, workdir)
        if "context" in wanted:
            numbers["context"] = [
                bench_context_one(size, with_outputs, args.quick)
                for size in CONTEXT_SIZES
                for with_outputs in (False, True)
            ]
        if "repack" in wanted and await asyncio.to_thread(lambda: has_amx(read_cpuinfo())):
            numbers["repack"] = "not run: this CPU has AMX (repacked weights crash)"
        elif "repack" in wanted:
            numbers["repack"] = await bench_repack(args.model, args.repack_runs, workdir)
    numbers["memory"] = [asdict(m) for m in harness.MEMORY]
    return numbers


def report(numbers: dict[str, Any], args: argparse.Namespace) -> None:
    verdicts: list[Verdict] = []
    if "browser" in numbers:
        verdicts += browser.report(numbers["browser"], args)
    if "overhead" in numbers:
        verdicts += report_overhead(numbers["overhead"])
    if "burst" in numbers:
        verdicts += report_burst(numbers["burst"], args.burst_requests)
    if "suggestions" in numbers:
        report_suggestions(numbers["suggestions"], harness.MODELS[args.model])
    if "next_cell" in numbers:
        report_next_cell(numbers["next_cell"])
    if "context" in numbers:
        verdicts += report_context(numbers["context"])
    if isinstance(numbers.get("repack"), str):
        print(f"## Weight repacking: {numbers['repack']}\n")
    elif "repack" in numbers:
        report_repack(numbers["repack"], harness.MODELS[args.model])
    if numbers["memory"]:
        report_memory(numbers["memory"])
    harness.print_verdicts(verdicts)
    numbers["verdicts"] = [asdict(v) for v in verdicts]


QUICK = {
    "servers": ["fake", "tiny"], "model": "tiny", "requests": 5, "burst_requests": 3, "runs": 1,
    "repack_runs": 1, "pairs": 2, "tasks": 2,
}  # fmt: skip
"""The defaults of `--quick` (CI runs it so that no section can rot): every section's code in
a few minutes, the tiny model where it can (the browser and next-cell take the default
model); options given explicitly still apply. Its numbers mean nothing."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: every section, few requests")
    add("--sections", type=harness.names_list(SECTIONS), default=list(SECTIONS),
        help=f"some of {','.join(SECTIONS)}")  # fmt: skip
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    add("--data", type=Path, default=harness.DATA, help="tasks.jsonl, notebooks.jsonl")
    add("--gguf", type=Path, help="browser, next-cell: GGUF file (default: gemma 3 270M)")
    add("--servers", type=harness.names_list(SERVERS),
        help="overhead (default fake,tiny,gemma), burst (default fake,gemma)")  # fmt: skip
    add("--model", choices=["tiny", "gemma"], default="gemma", help="suggestions, repack")
    add("--requests", type=int, help="overhead: per arm (default 200 on the fake, else 30)")
    add("--burst-requests", type=int, default=10, help="burst")
    add("--suggestions", type=harness.numbers_list, default=[1, 2, 4], help="suggestions")
    add("--runs", type=int, default=5, help="suggestions: per suggestion count")
    add("--repack-runs", type=int, default=5, help="repack: per arm")
    add("--pairs", type=int, default=12, help="next-cell: cell pairs")
    add("--tasks", type=int, default=6, help="browser: tasks (notebooks) measured")
    add("--collaboration", action="store_true", help="browser: also with collaboration on")
    add("--context-chars", type=int, default=7000, help="browser: characters of cells above")
    add("--typed-chars", type=int, default=10, help="browser: characters typed of the line")
    add("--key-delay-ms", type=int, default=150, help="browser: between typed characters")
    add("--focus-delay-ms", type=int, default=2000, help="browser (a): focus, wait, type")
    add("--opened-delay-ms", type=int, default=10000, help="browser (e): open, wait, click")
    add("--background-warm-ups", type=harness.on_off, default=True, help="browser: on or off")
    add("--along-chars", type=int, default=5, help="browser (d): characters typed along")
    add("--along-delay-ms", type=int, default=150, help="browser (d): between them")
    add("--sample-ms", type=int, default=50, help="browser (d): ghost text sampling interval")
    add("--ghost-timeout", type=float, default=30.0, help="browser: s to wait for ghost text")
    add("--timeout", type=float, default=3600.0, help="browser: s, bound on its run")
    add("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    add("--keep-log", action="store_true", help="browser: print the end of Jupyter's log")
    add(
        "--server-option", action="append", default=[], metavar="OPTION",
        help="browser: a Jupyter option, e.g. --JupyterAIInline.context_above_chars=1500",
    )  # fmt: skip
    args = harness.parse_args(
        parser, argv, QUICK, "a smoke test of every section; the numbers mean nothing"
    )
    return harness.run_and_report(run, lambda numbers: report(numbers, args), args)


if __name__ == "__main__":
    raise SystemExit(main())
