"""What the kernel's variables add to a suggestion: tasks whose answer only the kernel knows.

Run from the repository root (needs the `local` and `test` extras)::

    python bench/kernel_context.py            # the 16 tasks of bench/kernel_tasks.py
    python bench/kernel_context.py --quick    # smoke run for CI: 2 notebooks, short answers

Each notebook of `kernel_tasks.py` runs for real: a Python kernel (ipykernel, through
jupyter_client) in a folder with the notebook's data files executes its cells, then the
kernel summary exactly as the browser asks for it (`src/kernel.ts`: a silent execution of
`jupyter_ai_inline/kernel_summary.py`, its JSON line read from stdout). Each task then goes
to our extension in a real `jupyter server` on a managed `LocalLlamaServer` with the default
model (gemma 3 270M), as quality.py's `cells` arm: the request with the notebook's other
cells, once without and once with the summary's `variables` (the arms of a task in turn,
each going first in turn), both llama-server slots erased before each request (a cold prompt,
as for the first suggestion after running a cell).

Scores of the suggestion's first line against the rest of the line: exact match, and `key`:
the suggestion starts with what only the kernel knows (the column, the key, the number).
Costs: prompt tokens (llama-server's `/metrics` `prompt_tokens_total`, counted per request),
time to first text, request bytes; and the summary's own time in the kernel and size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jupyter_client.manager import start_new_async_kernel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` and `tests` are the packages there

from bench import harness, kernel_tasks, quality  # noqa: E402
from jupyter_ai_inline.engine import aclose_clients  # noqa: E402
from jupyter_ai_inline.local import LocalLlamaServer, default_model_path  # noqa: E402
from tests.support.kernel import run_cell, summary  # noqa: E402
from tests.support.llama_slots import prompt_tokens  # noqa: E402

ARMS = {"cells": "ours: cells", "kernel": "ours: cells and the kernel's variables"}
KERNEL_TIMEOUT = 60.0  # s, a kernel's start or one cell


@dataclass
class Result:
    arm: str
    task: str
    key: str
    outcome: quality.Outcome
    prompt_tokens: int

    @property
    def shown(self) -> str:
        return quality.first_line(self.outcome.text)


@contextlib.asynccontextmanager
async def kernel_in(folder: Path) -> AsyncIterator[Any]:
    """A Python kernel whose working directory is `folder`; shut down on the way out."""
    manager, client = await asyncio.wait_for(
        start_new_async_kernel(kernel_name="python3", cwd=str(folder)), KERNEL_TIMEOUT
    )
    try:
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def summaries(
    folder: Path, notebooks: Sequence[kernel_tasks.KernelNotebook]
) -> dict[str, tuple[list[dict[str, str]], float, int]]:
    """Per notebook: the kernel's variables after its cells ran, the summary's seconds
    (round trip) and its size in bytes."""
    found = {}
    for notebook in notebooks:
        async with kernel_in(folder) as client:
            for cell in notebook.cells:
                await run_cell(client, cell.ran or cell.source, KERNEL_TIMEOUT)
            started = time.perf_counter()
            line = await summary(client, KERNEL_TIMEOUT)
            seconds = time.perf_counter() - started
        found[notebook.name] = (json.loads(line)["variables"], seconds, len(line.encode()))
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as tmp:
        work = Path(tmp)
        notebooks = kernel_tasks.NOTEBOOKS[: args.notebooks]
        kernel_tasks.write(work / "data")
        tasks, cells = quality.load(work / "data")
        tasks = [task for task in tasks if task.notebook in {n.name for n in notebooks}]
        keys = kernel_tasks.keys()
        found = await summaries(work / "data", notebooks)
        model = args.model or await asyncio.to_thread(default_model_path, work / "models")
        (work / "slots").mkdir()
        extra = ["--slot-save-path", str(work / "slots"), "--cache-ram", "0", "--metrics"]
        server = LocalLlamaServer(
            model, ctx_size=quality.CTX_SIZE, parallel=quality.SLOTS, extra_args=extra
        )
        await server.start()
        results: list[Result] = []
        try:
            async with (
                httpx.AsyncClient(timeout=10) as client,
                quality.our_tab(
                    server.base_url,
                    work / "jupyter",
                    {"first_text_timeout": quality.FIRST_TEXT_TIMEOUT},
                    args.max_tokens,
                ) as tab,
            ):
                arms = list(ARMS)
                for i, task in enumerate(tasks):
                    for arm in arms[i % 2 :] + arms[: i % 2]:
                        message = tab.message(task, cells[task.notebook], task.prefix)
                        if arm == "kernel":
                            message["variables"] = found[task.notebook][0]
                        await quality.erase_slots(client, server.base_url, quality.SLOTS)
                        before = await prompt_tokens(server.base_url)
                        outcome = await asyncio.wait_for(
                            tab.suggest(message), quality.REQUEST_TIMEOUT
                        )
                        spent = await prompt_tokens(server.base_url) - before
                        results.append(Result(arm, task.id, keys[task.id], outcome, spent))
                        if args.progress:
                            shown = quality.first_line(outcome.text)
                            print(f"{task.id} {arm}: {shown!r}", file=sys.stderr)
        finally:
            await aclose_clients()
            await server.stop()
    targets = {task.id: task.target for task in tasks}
    return {
        "tasks": len(tasks),
        "max_tokens": args.max_tokens,
        "arms": [summarise(arm, [r for r in results if r.arm == arm], targets) for arm in ARMS],
        "summaries": [
            {"notebook": name, "variables": len(v), "kernel_ms": s * 1000, "bytes": size}
            for name, (v, s, size) in found.items()
        ],
        "results": [
            {"arm": r.arm, "task": r.task, "shown": r.shown, "target": targets[r.task]}
            for r in results
        ],
    }


def summarise(arm: str, results: Sequence[Result], targets: dict[str, str]) -> dict[str, Any]:
    firsts = [r.outcome.first_text_s * 1000 for r in results if r.outcome.first_text_s]
    return {
        "arm": f"{arm} ({ARMS[arm]})",
        "exact_match": statistics.fmean(r.shown == targets[r.task].rstrip() for r in results),
        "key_match": statistics.fmean(r.shown.startswith(r.key) for r in results),
        "errors": sum(r.outcome.error is not None for r in results),
        "prompt_tokens": statistics.fmean(r.prompt_tokens for r in results),
        "first_text_p50_ms": harness.percentile(firsts, 50),
        "first_text_p90_ms": harness.percentile(firsts, 90),
        "request_bytes": statistics.fmean(r.outcome.request_bytes or 0 for r in results),
    }


def report(numbers: dict[str, Any]) -> None:
    print(
        f"## Tasks only the kernel can answer: {numbers['tasks']} line completions, default "
        f"model, {numbers['max_tokens']} tokens at most, cold prompt cache\n"
    )
    headers = [
        "arm", "exact match", "starts with the key", "errors", "prompt tokens (mean)",
        "first text p50 ms", "first text p90 ms", "request bytes (mean)",
    ]  # fmt: skip
    rows = [
        [
            a["arm"], f"{a['exact_match']:.1%}", f"{a['key_match']:.1%}", a["errors"],
            round(a["prompt_tokens"]), a["first_text_p50_ms"], a["first_text_p90_ms"],
            round(a["request_bytes"]),
        ]
        for a in numbers["arms"]
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows) + "\n")
    print("### The kernel's summary (a silent execution after the cells ran)\n")
    headers = ["notebook", "variables", "round trip ms", "bytes"]
    rows = [
        [s["notebook"], s["variables"], round(s["kernel_ms"], 1), s["bytes"]]
        for s in numbers["summaries"]
    ]
    print(harness.markdown_table(headers, rows) + "\n")


QUICK = {"notebooks": 2, "max_tokens": 12}
"""`--quick` (CI): the first two notebooks (7 tasks), short answers."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 2 notebooks")
    add("--notebooks", type=int, default=len(kernel_tasks.NOTEBOOKS), help="the first N")
    add("--model", type=Path, help="GGUF file (default: the default model, gemma 3 270M)")
    add("--max-tokens", type=int, default=24)
    add("--progress", action="store_true", help="a line per request on stderr")
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(parser, argv, QUICK, "a smoke test; the numbers mean little")
    return harness.run_and_report(run, report, args, "the times are noisy")


if __name__ == "__main__":
    raise SystemExit(main())
