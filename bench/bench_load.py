"""Many users, one inference server: a JupyterHub-like load on one `llama-server`.

    python bench/bench_load.py            # 1, 8, 32, 64 users over 4 Jupyter servers (~2 min)
    python bench/bench_load.py --quick    # 1 and 8 users over 2 servers, for CI

One `llama-server --parallel 8` (the tiny random-weight FIM model of the tests, so that the
numbers show our side and the queueing, not a model's speed) serves several real `jupyter
server`s with our extension (`bench_local_endpoint.jupyter_server`), as the users' servers of
a hub do. Each user is a tab's websocket on one of them (round robin) that asks for
`--requests` suggestions in a row, `--think-ms` apart (jittered), as a user who pauses while
typing; all users at once. Reported per user count: first text p50/p90/max, the requests that
failed and why (`ServerBusy`, `BackendBusy`, ...), and suggestions per second.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.bench_local_endpoint import Tab, jupyter_server  # noqa: E402
from jupyter_ai_inline.local import LocalLlamaServer  # noqa: E402
from tests.support.gguf_fim_model import write_fim_model  # noqa: E402

MAX_TOKENS = 16
SLOTS = 8


async def user(url: str, number: int, args: argparse.Namespace, seed: int) -> tuple[list, list]:
    """One user's first-text times (s) and error titles."""
    times: list[float] = []
    errors: list[str] = []
    jitter = random.Random(seed)
    async with Tab.opened(url, MAX_TOKENS) as tab:
        for i in range(args.requests):
            await asyncio.sleep(args.think_ms / 1000 * jitter.uniform(0.5, 1.5))
            try:
                prefix = f"def user_{number}_step_{i}(a, b):\n    return"
                times.append(await tab.first_text(i + 1, prefix, "\n"))
            except RuntimeError as error:  # an error reply: what the user would see
                errors.append(str(error).split(":")[0][:60])
    return times, errors


async def load(urls: list[str], users: int, args: argparse.Namespace) -> list[object]:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(user(urls[i % len(urls)], i, args, seed=i) for i in range(users))
    )
    seconds = time.perf_counter() - started
    times = [t * 1000 for result in results for t in result[0]]
    errors = collections.Counter(e for result in results for e in result[1])
    failed = "; ".join(f"{count}× {title}" for title, count in errors.most_common(3)) or "none"
    return [
        users, len(urls), len(times) + sum(errors.values()),
        f"{harness.percentile(times, 50):,.1f}", f"{harness.percentile(times, 90):,.1f}",
        f"{max(times, default=0):,.1f}", failed, f"{len(times) / seconds:,.1f}",
    ]  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    run = harness.Run.start()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        work = Path(scratch)
        model = write_fim_model(work / "tiny-fim.gguf")
        server = LocalLlamaServer(
            model, ctx_size=256 * SLOTS, parallel=SLOTS, threads=2, startup_timeout=60
        )
        await server.start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                urls = [
                    await stack.enter_async_context(
                        jupyter_server(server.base_url, work / f"jupyter-{i}")
                    )
                    for i in range(args.servers)
                ]
                rows = []
                for users in args.users:
                    rows.append(await load(urls, users, args))
                    print(f"[load] {rows[-1]}", file=sys.stderr)
        finally:
            await server.stop()
    print(
        f"## Users at once on one llama-server --parallel {SLOTS} (tiny FIM model, "
        f"{args.requests} suggestions each, {args.think_ms} ms apart)\n"
    )
    headers = [
        "users", "Jupyter servers", "requests", "first text p50 ms", "p90 ms", "max ms",
        "failed", "suggestions/s",
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows))
    print()
    run.report()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--think-ms", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="1 and 8 users, 2 servers")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.users, arguments.servers, arguments.requests = [1, 8], 2, 3
    asyncio.run(main(arguments))
