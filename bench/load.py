"""How many users can one inference server take? A JupyterHub-like load, ours beside
Jupyter AI 2's.

    python bench/load.py            # 1, 8, 32, 64 users over 4 Jupyter servers (~11 min)
    python bench/load.py --quick    # 1 and 8 users over 2 servers, for CI

1. Typing users. One `llama-server --parallel 8 --metrics` (the tiny random-weight FIM model
of the tests, so that the numbers show the clients and the queueing, not a model's speed)
serves several real `jupyter server`s, as the single-user servers of a hub do. Each has our
extension and Jupyter AI 2, whose completions model is its `openai-chat-custom` provider on
the same llama-server with the same token limit. Each simulated user is a tab's websocket
(ours, or Jupyter AI's `api/ai/completion/inline`) on one of the servers (round robin) and
types `--bursts` bursts of keystrokes, the gaps drawn as a typist's (lognormal, median
150 ms), with a think pause between bursts. As JupyterLab's inline completer does, a
keystroke sends a request when no other follows within the provider's debounce (its default:
ours 200 ms, Jupyter AI's 250 ms); a newer request supersedes the older one: ours cancels its
generation, Jupyter AI's runs to its end (it has no cancellation); ours also cancels at the
first keystroke that none of its suggestions so far can start with, as the browser does.
Both arms type the same keystrokes at the same times. Reported per arm and user count:
requests sent (and cancelled at a keystroke), the time from the last keystroke of a burst to
its first text (debounce included) p50 / p99, tokens the model server generated
(`tokens_predicted_total`) per token shown (the last request's suggestion, counted by
`/tokenize`), failures. Then the same on a fake model server paced as a GPU's slots are under
load (8 slots, 20 ms a token, the rest queued; its token is one character), where a
generation takes longer than the gaps between keystrokes.

2. A busy model server. A fake model server answers every generation with 429 and
`Retry-After: 2`; users type on one Jupyter server for a while: the requests the users'
tabs sent, those that reached the model server, and what the user reads.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import math
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import AUTH, RECEIVE_TIMEOUT, Tab, jupyter_server  # noqa: E402
from tests.support.completion import request  # noqa: E402
from tests.support.fake_backend import FakeBackend  # noqa: E402
from tests.support.poll import until  # noqa: E402
from tests.support.ws_client import Client  # noqa: E402

MAX_TOKENS = 64  # a few lines: long enough that a superseded generation is still running
SLOTS = 8
DEBOUNCE_S = {"ours": 0.200, "jupyter-ai": 0.250}  # the providers' default debouncerDelay
ARMS = {"ours": "ours (cancels)", "jupyter-ai": "Jupyter AI 2 (no cancellation)"}
JUPYTER_AI_MODEL = "openai-chat-custom:tiny-fim"
KEY_GAP_MEDIAN_S = 0.150  # a typist's gap between keystrokes, ~80 words a minute
KEY_GAP_SIGMA = 0.5
KEY_GAP_MAX_S = 1.0
MIME = "text/x-ipython"
PACE_S = 0.020  # the paced fake: 50 tokens/s per slot, a GPU's pace per slot under load
IDLE_TIMEOUT = 600.0  # s, until Jupyter AI's superseded generations have run out (queued)
LINE = "result = frame.groupby('region')['units'].sum().sort_values()"


@dataclass
class Burst:
    """A burst's keystroke times (s from its start) and the requests it sends: (send time,
    keystrokes typed so far)."""

    keys: list[float]
    sends: list[tuple[float, int]]


def burst(rng: random.Random, keystrokes: int, debounce: float) -> Burst:
    keys = [0.0]
    for _ in range(keystrokes - 1):
        gap = rng.lognormvariate(math.log(KEY_GAP_MEDIAN_S), KEY_GAP_SIGMA)
        keys.append(keys[-1] + min(gap, KEY_GAP_MAX_S))
    sends = [
        (at + debounce, i + 1)
        for i, at in enumerate(keys)
        if i + 1 == len(keys) or keys[i + 1] - at > debounce
    ]
    return Burst(keys, sends)


@dataclass
class UserResult:
    requests: int = 0
    first_text_s: list[float] = field(default_factory=list)  # per burst, from its last key
    shown: list[str] = field(default_factory=list)  # per burst, the last request's text
    errors: list[str] = field(default_factory=list)
    cancels: int = 0  # requests cancelled at a keystroke that left every suggestion


@dataclass
class Answer:
    """What a tab received for one request."""

    tokens: list[str] | None = None
    first: float | None = None  # the loop's clock at its first text
    done: int = 0
    error: str | None = None
    cancelled: bool = False
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class Typist:
    """One user's tab: ours or Jupyter AI's websocket, the same typing on both. A reader
    task files every reply under its request, as the browser's client does."""

    def __init__(self, arm: str, tab: Client, number: int) -> None:
        self.arm, self.tab, self.number = arm, tab, number
        self.sent = 0
        self.cancels = 0
        self.answers: dict[int, Answer] = {}

    def send(self, prefix: str) -> int:
        self.sent += 1
        self.answers[self.sent] = Answer()
        fields = {
            "prefix": prefix,
            "suffix": "\n",
            "mime": MIME,
            "path": f"user-{self.number}.ipynb",
            "cell_id": "cell-1",
        }
        if self.arm == "ours":
            self.tab.request(self.sent, **fields)
        else:
            self.tab.send(**request(self.sent, stream=True, **fields))
        return self.sent

    def typed(self, number: int, typed: str) -> None:
        """A keystroke after request `number`, `typed` since its prefix: ours cancels it when
        none of its suggestions so far can start with that (`src/provider.ts` does the same);
        Jupyter AI's has no cancellation."""
        answer = self.answers[number]
        if self.arm != "ours" or answer.ended.is_set() or answer.cancelled or not answer.tokens:
            return
        texts = [self.tab.texts.get(token, "") for token in answer.tokens]
        if all(not t.startswith(typed) and not typed.startswith(t) for t in texts):
            answer.cancelled = True
            self.cancels += 1
            self.tab.send(type="cancel", number=number)

    async def read(self) -> None:
        """File replies until the socket closes (the reader is cancelled on the way out)."""
        while True:
            try:
                message = await self.tab.receive()
            except TimeoutError:
                continue  # a quiet socket
            except AssertionError:
                return  # closed
            answer = self.answers.get(message.get("reply_to"))
            if answer is None or answer.ended.is_set():
                continue  # a status, or after the end
            if message.get("error"):
                answer.error = message["error"].get("title", "error")[:80]
            elif "list" in message:
                answer.tokens = [item["token"] for item in message["list"]["items"]]
            elif "response" in message:
                text = message["response"]["insertText"]
                if answer.first is None and (text or message.get("done")):
                    answer.first = asyncio.get_running_loop().time()
                answer.done += bool(message.get("done"))
            if answer.error or (answer.tokens is not None and answer.done >= len(answer.tokens)):
                answer.ended.set()

    async def outcome(self, number: int) -> tuple[float | None, str, str | None]:
        """Wait for request `number` to end: when its first text came (the loop's clock), its
        first suggestion's text, its error title."""
        answer = self.answers[number]
        await asyncio.wait_for(answer.ended.wait(), RECEIVE_TIMEOUT)
        text = self.tab.texts.get(answer.tokens[0], "") if answer.tokens else ""
        return answer.first, text, answer.error


@contextlib.asynccontextmanager
async def typist(arm: str, url: str, number: int, busy: bool) -> AsyncIterator[Typist]:
    """A tab of one arm with its reader running."""
    async with contextlib.AsyncExitStack() as stack:
        if arm == "ours":
            tab: Client = await stack.enter_async_context(
                Tab.opened(url, MAX_TOKENS, until_mode=not busy)
            )
        else:
            ws_url = url.replace("http", "ws", 1) + "/api/ai/completion/inline"
            socket = await asyncio.wait_for(
                websocket_connect(HTTPRequest(ws_url, headers=AUTH)), RECEIVE_TIMEOUT
            )
            tab = Client(socket, RECEIVE_TIMEOUT)
            stack.callback(tab.close)
        one = Typist(arm, tab, number)
        reader = asyncio.create_task(one.read())
        try:
            yield one
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def type_along(typist: Typist, bursts: list[Burst], think: list[float]) -> UserResult:
    """Type the bursts, each line from its start, as the plan says (every keystroke, and the
    requests the debounce lets through); a think pause after each."""
    result = UserResult()
    loop = asyncio.get_running_loop()
    for plan, pause in zip(bursts, think, strict=True):
        started = loop.time()
        events = sorted(
            [(at, 1, typed) for typed, at in enumerate(plan.keys, start=1)]
            + [(at, 0, typed) for at, typed in plan.sends]
        )
        number, sent_at = 0, 0
        for at, is_key, typed in events:
            await asyncio.sleep(max(started + at - loop.time(), 0))
            if not is_key:
                number, sent_at = typist.send(LINE[:typed]), typed
            elif number:
                typist.typed(number, LINE[sent_at:typed])
        last_key = started + plan.keys[-1]
        try:
            first, text, error = await typist.outcome(number)
        except TimeoutError:
            first, text, error = None, "", "no answer in time"
        if error:
            result.errors.append(error)
        elif first is not None:
            result.first_text_s.append(first - last_key)
            result.shown.append(text)
        await asyncio.sleep(pause)
    result.requests = typist.sent
    result.cancels = typist.cancels
    return result


def plans(users: int, args: argparse.Namespace, arm: str) -> list[tuple[list[Burst], list[float]]]:
    """Each user's bursts and think pauses: the same keystrokes for both arms (one seed per
    user), the requests as the arm's debounce sends them."""
    made = []
    for user in range(users):
        rng = random.Random(user)
        bursts, think = [], []
        for _ in range(args.bursts):
            keystrokes = rng.randint(6, 14)
            bursts.append(burst(rng, keystrokes, DEBOUNCE_S[arm]))
            think.append(rng.uniform(*args.think))
        made.append((bursts, think))
    return made


async def users_typing(
    arm: str, urls: list[str], users: int, args: argparse.Namespace, busy: bool = False
) -> list[UserResult]:
    """`users` tabs of one arm (on the Jupyter servers in turn) typing at once."""
    async with contextlib.AsyncExitStack() as stack:
        typists = [
            await stack.enter_async_context(typist(arm, urls[i % len(urls)], i, busy))
            for i in range(users)
        ]
        return await asyncio.gather(
            *(
                type_along(one, *plan)
                for one, plan in zip(typists, plans(users, args, arm), strict=True)
            )
        )


class FakeMeter:
    """The paced fake model server: its token is one character."""

    def __init__(self, fake: FakeBackend) -> None:
        self.fake = fake

    async def generated(self) -> int:
        return self.fake.tokens_generated

    async def idle(self) -> None:
        await until(lambda: self.fake.active == 0, IDLE_TIMEOUT, 0.05, "the fake idle")

    async def shown(self, texts: Sequence[str]) -> int:
        return sum(map(len, texts))


async def load(arm: str, urls: list[str], meter: harness.Meter, users: int, args) -> dict[str, Any]:
    """N users of one arm typing at once; waits for the model server to go idle (Jupyter AI's
    superseded generations run on) before counting the tokens."""
    await meter.idle()
    before = await meter.generated()
    results = await users_typing(arm, urls, users, args)
    await meter.idle()
    generated = await meter.generated() - before
    times = [t * 1000 for r in results for t in r.first_text_s]
    shown = await meter.shown([s for r in results for s in r.shown])
    errors = collections.Counter(e for r in results for e in r.errors)
    return {
        "arm": arm,
        "users": users,
        "servers": len(urls),
        "bursts": len(times) + sum(errors.values()),
        "requests": sum(r.requests for r in results),
        "cancelled_at_a_key": sum(r.cancels for r in results),
        "first_text_p50_ms": harness.percentile(times, 50),
        "first_text_p99_ms": harness.percentile(times, 99),
        "tokens_generated": generated,
        "tokens_shown": shown,
        "errors": dict(errors),
    }


def jupyter_ai_config(workdir: Path, llama_url: str) -> dict[str, Any]:
    """Jupyter AI 2's completions model on `llama_url`, its files in `workdir`."""
    return {
        "AiExtension": {
            "default_completions_model": JUPYTER_AI_MODEL,
            "default_api_keys": {"OPENAI_API_KEY": "unused"},  # llama-server takes none
            "model_parameters": {
                JUPYTER_AI_MODEL: {"openai_api_base": f"{llama_url}/v1", "max_tokens": MAX_TOKENS}
            },
        },
        "ConfigManager": {
            "config_path": str(workdir / "jupyter_ai" / "config.json"),
            "schema_path": str(workdir / "jupyter_ai" / "config_schema.json"),
        },
    }


@contextlib.asynccontextmanager
async def jupyter_servers(llama_url: str, work: Path, count: int) -> AsyncIterator[list[str]]:
    async with contextlib.AsyncExitStack() as stack:
        urls = []
        for i in range(count):
            workdir = work / f"jupyter-{i}"
            config = jupyter_ai_config(workdir, llama_url)
            urls.append(
                await stack.enter_async_context(jupyter_server(llama_url, workdir, config=config))
            )
        yield urls


async def typing_users(args: argparse.Namespace, work: Path) -> dict[str, list[dict]]:
    """Both arms at each user count on the real llama-server, then on the paced fake."""
    model = harness.model_file("tiny", work)
    tables: dict[str, list[dict]] = {"llama": [], "paced": []}
    async with (
        harness.llama_server(
            model,
            "load",
            ctx_size=1024 * SLOTS,  # Jupyter AI's prompt is about 570 tokens
            parallel=SLOTS,
            threads=2,
            startup_timeout=60,
        ) as llama_url,
        FakeBackend(tokens=["x"] * MAX_TOKENS, token_delay=PACE_S, slots=SLOTS) as fake,
        jupyter_servers(llama_url, work / "llama", args.servers) as llama_urls,
        jupyter_servers(fake.url, work / "paced", args.servers) as paced_urls,
    ):
        for table, urls, meter in [
            ("llama", llama_urls, harness.LlamaMeter(llama_url, IDLE_TIMEOUT)),
            ("paced", paced_urls, FakeMeter(fake)),
        ]:
            for users in args.users:
                for arm in ARMS:
                    tables[table].append(await load(arm, urls, meter, users, args))
                    print(f"[{table}] {tables[table][-1]}", file=sys.stderr)
    return tables


async def busy_server(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Users typing on one Jupyter server while the model server answers 429, Retry-After 2."""
    rows = []
    async with (
        FakeBackend(fail_status=429, retry_after="2") as fake,
        jupyter_servers(fake.url, work / "busy", 1) as urls,
    ):
        for arm in ARMS:
            before = len(fake.requests)
            results = await users_typing(arm, urls, args.busy_users, args, busy=True)
            await asyncio.sleep(1)  # let Jupyter AI's client retries land
            arrived = [r for r in fake.requests[before:] if r.path != "/props"]
            errors = collections.Counter(e for r in results for e in r.errors)
            rows.append(
                {
                    "arm": arm,
                    "users": args.busy_users,
                    "requests_sent": sum(r.requests for r in results),
                    "requests_at_model_server": len(arrived),
                    "user_reads": errors.most_common(1)[0][0] if errors else "no error",
                }
            )
            print(f"[busy] {rows[-1]}", file=sys.stderr)
    return rows


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        work = Path(scratch)
        return {
            **await typing_users(args, work),
            "busy": await busy_server(args, work),
            "bursts": args.bursts,
            "think_s": args.think,
        }


def failed(errors: dict[str, int]) -> str:
    return "; ".join(f"{n}× {title}" for title, n in errors.items()) or "none"


def typing_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "users", "Jupyter servers", "client", "requests", "cancelled at a keystroke",
        "last key to first text p50 ms",
        "p99 ms", "tokens generated", "tokens shown", "generated/shown", "failed",
    ]  # fmt: skip
    return harness.markdown_table(
        headers,
        [
            [
                r["users"], r["servers"], ARMS[r["arm"]], r["requests"], r["cancelled_at_a_key"],
                r["first_text_p50_ms"],
                r["first_text_p99_ms"], r["tokens_generated"], r["tokens_shown"],
                f"{r['tokens_generated'] / max(r['tokens_shown'], 1):.1f}", failed(r["errors"]),
            ]
            for r in rows
        ],
    )  # fmt: skip


def report(numbers: dict[str, Any]) -> None:
    low, high = numbers["think_s"]
    typing = f"{numbers['bursts']} bursts each, {low}-{high} s pauses, {MAX_TOKENS} tokens at most"
    print(f"## Typing users on one llama-server --parallel {SLOTS} (tiny FIM model; {typing})\n")
    print(typing_table(numbers["llama"]) + "\n")
    print(
        f"## The same on a paced model server ({SLOTS} slots, {PACE_S * 1000:.0f} ms a token, "
        "the rest queued)\n"
    )
    print(typing_table(numbers["paced"]) + "\n")
    print("## A busy model server: every generation answered 429, Retry-After: 2\n")
    headers = ["client", "users", "requests sent", "requests at the model server", "the user reads"]
    rows = [
        [ARMS[r["arm"]], r["users"], r["requests_sent"], r["requests_at_model_server"],
         r["user_reads"]]
        for r in numbers["busy"]
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows) + "\n")


QUICK = {"users": [1, 8], "servers": 2, "bursts": 2, "think": [0.3, 1.0], "busy_users": 4}
"""`--quick` (CI): 1 and 8 users on 2 servers, 2 short bursts each."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="1 and 8 users, 2 servers, 2 bursts")
    add("--users", type=int, nargs="+", default=[1, 8, 32, 64])
    add("--servers", type=int, default=4)
    add("--bursts", type=int, default=4, help="typing bursts per user")
    add("--think", type=float, nargs=2, default=[1.0, 3.0], help="pause after a burst, s")
    add("--busy-users", type=int, default=8, help="users typing while the server answers 429")
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(parser, argv, QUICK, "a smoke test; the numbers mean little")
    return harness.run_and_report(run, report, args)


if __name__ == "__main__":
    raise SystemExit(main())
