"""The prompt cache when the user moves on to the next cell: how much of the next cell's
prompt llama-server must evaluate again, with the cells above anchored at a grid-aligned cell
(ours) or cut to exactly the budget (the farthest cell cut, as before), and with llama-server's
`--cache-reuse` (KV shifting of reused chunks).

    python bench/bench_prefix.py            # 12 cell pairs of the task set (~6 min)
    python bench/bench_prefix.py --quick    # 2 pairs, for CI (~1 min)

For each task of `../shared/eval` (its notebook, the cell of the task), the prompt of the
cell (the default model's `/completion` prompt: the cells above within 6,000 characters, then
the cell's text) is evaluated on a one-slot managed llama-server with the default model, then
that of the next cell, as after Shift+Enter: the tokens evaluated for the second and their
time are read from llama-server (`/metrics`). Every pair starts from an empty cache.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.quality import load  # noqa: E402
from jupyter_ai_inline.engine import CellText, ContextBudget  # noqa: E402
from jupyter_ai_inline.engine.backends.llamacpp import LlamaCppBackend  # noqa: E402
from jupyter_ai_inline.engine.models import BackendSettings, FimPrompt  # noqa: E402
from jupyter_ai_inline.engine.prompt import render_cell, take_above  # noqa: E402
from jupyter_ai_inline.local import LocalLlamaServer, default_model_path  # noqa: E402

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


def prompt(cells: list[dict[str, str]], index: int, rule: Rule) -> FimPrompt:
    above = [CellText(kind=c["cell_type"], source=c["source"]) for c in cells[:index]]  # type: ignore[arg-type]
    return FimPrompt(prefix=cells[index]["source"], suffix="", above=rule(above[::-1]))


async def prompt_tokens(client: httpx.AsyncClient, url: str) -> int:
    text = (await client.get(f"{url}/metrics")).text
    match = re.search(r"^llamacpp:prompt_tokens_total (\S+)", text, re.M)
    assert match, "no prompt_tokens_total in /metrics"
    return int(float(match.group(1)))


@contextlib.asynccontextmanager
async def server(model: Path, extra: list[str]) -> AsyncIterator[str]:
    local = LocalLlamaServer(model, parallel=1, threads=2, extra_args=["--metrics", *extra])
    await local.start()
    try:
        yield local.base_url
    finally:
        await local.stop()


async def next_cell(url: str, first: FimPrompt, second: FimPrompt) -> tuple[int, int, float]:
    """Tokens evaluated for `first` (from an empty slot), then for `second`, and the
    seconds of the second."""
    backend = LlamaCppBackend(BackendSettings(base_url=url, model="bench"))
    async with httpx.AsyncClient(timeout=30) as client:
        await client.post(f"{url}/slots/0?action=erase")
        start = await prompt_tokens(client, url)
        await backend.warm(first)
        middle = await prompt_tokens(client, url)
        started = time.perf_counter()
        await backend.warm(second)
        seconds = time.perf_counter() - started
        end = await prompt_tokens(client, url)
    return middle - start, end - middle, seconds


async def main(args: argparse.Namespace) -> None:
    tasks, notebooks = load(args.data)
    pairs: list[tuple[list[dict[str, str]], int]] = []
    seen: set[str] = set()
    for task in tasks:
        cells = notebooks[task.notebook].cells
        if task.notebook in seen or task.cell_index + 1 >= len(cells):
            continue
        above = sum(len(c["source"]) for c in cells[: task.cell_index])
        if above >= 2 * BUDGET.above_chars:  # long enough that the window moves
            seen.add(task.notebook)
            pairs.append((cells, task.cell_index))
        if len(pairs) >= args.pairs:
            break
    model = default_model_path(args.models)
    rows = []
    run = harness.Run.start()
    for setting, extra in (("default", []), ("--cache-reuse 256", ["--cache-reuse", "256"])):
        async with server(model, extra) as url:
            for name, rule in RULES.items():
                results = [
                    await next_cell(url, prompt(cells, i, rule), prompt(cells, i + 1, rule))
                    for cells, i in pairs
                ]
                firsts = [r[0] for r in results]
                seconds = [r[1] for r in results]
                ms = [r[2] * 1000 for r in results]
                reused = [max(0.0, 1 - s / f) for f, s in zip(firsts, seconds, strict=True)]
                rows.append([
                    setting, name, len(results), f"{harness.percentile(firsts, 50):,.0f}",
                    f"{harness.percentile(seconds, 50):,.0f}",
                    f"{harness.percentile(reused, 50) * 100:.0f} %",
                    f"{harness.percentile(ms, 50):,.0f}", f"{harness.percentile(ms, 90):,.0f}",
                ])  # fmt: skip
                print(f"[prefix] {setting}, {name}: {rows[-1][3:]}", file=sys.stderr)
    print(
        "## The next cell's prompt after the last one's is cached (gemma 3 270M, one slot, "
        "6,000 characters above)\n"
    )
    headers = [
        "llama-server", "cells above", "pairs", "tokens, first cell (p50)",
        "tokens evaluated, next cell (p50)", "saved by the cache (p50)",
        "next cell ms p50", "p90",
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows))
    print()
    run.report()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=repo.parent / "shared" / "eval")
    parser.add_argument("--models", type=Path, default=repo / ".venv" / "models")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="2 pairs")
    arguments = harness.parse_args(parser, None, {"pairs": 2}, "2 pairs; the numbers mean little")
    asyncio.run(main(arguments))
