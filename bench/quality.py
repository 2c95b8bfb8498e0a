"""How good are the suggestions? Line completions on notebooks, through our websocket, and the
peer.

Run from the repository root (needs the `local` and `test` extras, and `langchain-openai` for
Jupyter AI's OpenAI provider of the peer arm)::

    python bench/quality.py                   # 120 notebook tasks, 4 arms
    python bench/quality.py --tasks kernel    # 16 tasks only the kernel can answer, 2 arms
    python bench/quality.py --limit 4 --arms cells,current
    python bench/quality.py --quick           # smoke run for CI: 6 tasks
    python bench/quality.py --quick --tasks kernel
    python bench/quality.py --json quality.json

Task sets (`--tasks`): `notebooks`, `tasks.jsonl` of `--data` (default `../shared/eval` beside
the repository, see its README): a notebook cell cut inside one of its lines, `target` the
rest of that line; `kernel`, the notebooks of `bench/kernel_tasks.py`, run for real in a
Python kernel, whose answers only the kernel knows (a column, a key, a shape, a parameter).
Every task goes through each arm once, the arms of a task in turn (each goes first in turn):

* `cells`: our extension in a real `jupyter server` subprocess, on a managed
  `LocalLlamaServer` with the default model (gemma 3 270M) and the user's default local
  settings (8192 tokens of context, 2 slots). A tab's websocket sends the cell split at the
  cursor with the other cells as the browser picks them (`src/neighbours.ts`: nearest first,
  empty cells skipped, within the `context_budget` of the server's status, whole cells above
  from an anchored start), `path` the notebook's name, a `cell_id` per task. No collaboration
  room exists, so the server uses the request's cells.
* `current`: the same server and tab, the current cell only (no `above`, no `below`).
* `outputs`: a second `jupyter server` with `c.JupyterAIInline.include_outputs = True`; the
  tab sends each code cell's `outputs` (the data's `cell_outputs`) as the browser then does.
* `kernel` (the `kernel` task set only): `cells` and the kernel's summary as `variables`.
* `jupyter-ai`: the peer, Jupyter AI 2's inline completion on the same model and server:
  `BaseProvider.stream_inline_completions` (what its `DefaultInlineCompletionHandler` calls)
  of its `openai` provider (`OpenAIProvider`, langchain-openai's `OpenAI`: the completion
  API, `/v1/completions`), so its default completion prompt (`COMPLETION_SYSTEM_PROMPT` and
  `COMPLETION_DEFAULT_TEMPLATE`) goes to the model as plain text. `/v1/chat/completions` is
  no fair peer: the model's GGUF carries a ChatML chat template that gemma answers with
  template debris. Its request is what Jupyter AI's frontend sends: the current cell only
  (prefix and suffix at most 10 000 characters), the notebook's path, language `python`.
  Greedy (temperature 0) and `max_tokens` as ours, as for our arms; run in this process
  (no websocket in between). In a default Jupyter AI 2 setup suggestions triggered by typing
  are not streamed (`streaming: manual`): the user sees the text when it is done.

One suggestion (greedy), `--max-tokens` (48; 24 for the kernel tasks). Before every request
both llama-server slots are erased (`--slot-save-path`, `--cache-ram 0`), so every arm's
prompt is evaluated cold, whatever ran before: the times are those of a first request in a
cell, not of typing on (where the prompt cache holds all but the last keystroke). `--warm`
sends the previous keystroke's request (the prefix less its last character) first,
unmeasured, as typing would. A cold prompt of 6000 characters of cells (about 2000 tokens)
can take longer than the server's first-text deadline of 5 s on 2 cores (why
`first_text_timeout` defaults to 15 s), so our servers here get 60 s
(`--first-text-timeout`): the quality is the model's, not the CPU's; the table counts the
first texts later than 5 s. `--above-chars` and `--below-chars` set our servers' budget of
other cells (the tab follows the status, as the browser does).

Scores of the suggestion's first line (the text inserted at the cursor, trailing whitespace
stripped) against the target: exact match and edit similarity (1 - Levenshtein distance /
longer length), as CodeXGLUE line completion, RepoBench and CrossCodeEval score; for the
kernel tasks also `key`: the suggestion starts with what only the kernel knows. Costs: the
prompt tokens llama-server evaluated (`/metrics`), the time from sending the request to the
first non-empty text (`first text`) and to the last chunk (`done`), and the UTF-8 size of the
request message as the browser serialises it (`JSON.stringify`).
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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` and `tests` are the packages there

from bench import harness, kernel_tasks  # noqa: E402
from bench.harness import Notebook, Tab, Task  # noqa: E402
from jupyter_ai_inline.engine import CellText, ContextBudget  # noqa: E402
from jupyter_ai_inline.engine.prompt import pick_above, pick_below  # noqa: E402
from tests.support.llama_slots import prompt_tokens  # noqa: E402

MAX_TOKENS = {"notebooks": 48, "kernel": 24}
CTX_SIZE = 8192  # c.JupyterAIInline.local_ctx_size's default
SLOTS = 2  # c.JupyterAIInline.local_parallel's default
MIME = "text/x-ipython"  # a notebook cell's editor
LANGUAGE = "python"  # languageOf(mime) in src/editor.ts
REQUEST_TIMEOUT = 120.0  # s, one request read to its end (then counted as an error)
JUPYTER_AI_MAX_CHARS = 10_000  # Jupyter AI's frontend: maxPrefix (also used for the suffix)
DEFAULT_TIMEOUT = 5.0  # s, c.JupyterAIInline.first_text_timeout's default
FIRST_TEXT_TIMEOUT = 60.0  # s, ours here: a cold prompt of 6000 characters may take longer

ARMS = {
    "cells": "ours: with cells",
    "current": "ours: current cell only",
    "outputs": "ours: with cells and outputs",
    "kernel": "ours: with cells and the kernel's variables",
    "jupyter-ai": "peer: Jupyter AI 2 openai (completion) provider",
}
DEFAULT_ARMS = {
    "notebooks": ["cells", "current", "outputs", "jupyter-ai"],
    "kernel": ["cells", "kernel"],
}
QUICK_ARMS = {"notebooks": ["cells", "current"], "kernel": ["cells", "kernel"]}

KINDS = ("code", "markdown", "raw")

Budget = dict[str, Any]
"""The `context_budget` of the server's status (`above_chars`, `below_chars`, `max_cells`,
`include_outputs`, `output_chars`)."""

DEFAULT_BUDGET: Budget = {
    "above_chars": 6000,
    "below_chars": 2000,
    "max_cells": 50,
    "include_outputs": False,
    "output_chars": 400,
}
"""`DEFAULT_BUDGET` of `src/protocol.ts`: the browser's budget until the status tells."""


# -- the browser's choice of cells -------------------------------------------------------------


def cell_text(cell: dict[str, str], output: str | None, budget: Budget) -> CellText:
    """A cell as the browser reads it (`cellMessage` of src/neighbours.ts): its kind and
    source, and its short text output when the server's budget includes outputs."""
    kind = cell["cell_type"] if cell["cell_type"] in KINDS else "raw"
    outputs = ""
    if budget["include_outputs"] and kind == "code" and budget["output_chars"] > 0:
        outputs = (output or "")[: budget["output_chars"]].strip()  # outputText
    return CellText(kind=kind, source=cell["source"], outputs=outputs)  # type: ignore[arg-type]


def cell_message(cell: CellText) -> dict[str, str]:
    """A cell as a request carries it (`ICellMessage`)."""
    outputs = {"outputs": cell.outputs} if cell.outputs else {}
    return {"cell_type": cell.kind, "source": cell.source, **outputs}


def neighbours(
    notebook: Notebook, index: int, budget: Budget
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The `above` and `below` cells of the cell at `index`, nearest first, as the browser
    sends them (`neighbours` of src/neighbours.ts): chosen by the engine's budget rule
    (`pick_above`, `pick_below`), which the browser mirrors."""
    cells = [
        cell_text(cell, output, budget)
        for cell, output in zip(notebook.cells, notebook.outputs, strict=True)
    ]
    rule = ContextBudget.model_validate(budget)
    above = pick_above(cells[:index][::-1], rule)
    below = pick_below(cells[index + 1 :], rule)
    return [cell_message(cell) for cell in above], [cell_message(cell) for cell in below]


def browser_json(message: dict[str, Any]) -> str:
    """A message as `JSON.stringify` writes it: no spaces, non-ASCII characters as they are."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


# -- scores ------------------------------------------------------------------------------------


def first_line(text: str) -> str:
    """The first line of a suggestion, trailing whitespace stripped."""
    return text.split("\n", 1)[0].rstrip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def edit_similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / the longer length (1.0 for two empty strings)."""
    longer = max(len(a), len(b))
    return 1.0 if longer == 0 else 1.0 - levenshtein(a, b) / longer


def exact_match(suggestion: str, target: str) -> bool:
    return first_line(suggestion) == target.rstrip()


# -- the arms ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request of one arm."""

    text: str = ""
    first_text_s: float | None = None  # to the first non-empty text, None if none came
    done_s: float | None = None  # to the last chunk
    request_bytes: int | None = None  # our websocket's request message
    error: str | None = None


Arm = Callable[[Task, str], Awaitable[Outcome]]
"""One request of an arm for a task, at the task's cursor with this prefix."""


class BrowserTab(Tab):
    """A tab that keeps the server's latest status and reads one suggestion at a time."""

    status: dict[str, Any] | None = None
    number = 0

    async def receive(self) -> dict[str, Any]:
        message = await super().receive()
        if message.get("type") == "status":
            self.status = message
        return message

    @property
    def budget(self) -> Budget:
        return (self.status or {}).get("context_budget") or DEFAULT_BUDGET

    def message(self, task: Task, notebook: Notebook | None, prefix: str) -> dict[str, Any]:
        """The request the browser sends for the task's cell (other cells if `notebook`)."""
        self.number += 1
        message: dict[str, Any] = {
            "type": "request", "number": self.number, "prefix": prefix, "suffix": task.suffix,
            "mime": MIME, "path": task.notebook, "cell_id": task.id, "language": LANGUAGE,
        }  # fmt: skip
        if notebook is not None:
            above, below = neighbours(notebook, task.cell_index, self.budget)
            if above:
                message["above"] = above
            if below:
                message["below"] = below
        return message

    async def suggest(self, message: dict[str, Any]) -> Outcome:
        """Send a request and read it to its `done` chunk (one suggestion)."""
        raw = browser_json(message)
        number = message["number"]
        outcome = Outcome(request_bytes=len(raw.encode()))
        started = time.perf_counter()
        self.socket.write_message(raw)
        while True:
            reply = await self.receive()
            if reply.get("reply_to") != number:
                continue  # a status update
            if reply.get("error"):
                outcome.error = reply["error"]["title"]
            if reply["type"] == "error":
                outcome.done_s = time.perf_counter() - started
                return outcome
            if reply["type"] == "stream":
                outcome.text = reply["response"]["insertText"]
                if outcome.first_text_s is None and outcome.text:
                    outcome.first_text_s = time.perf_counter() - started
                if reply["done"]:
                    outcome.done_s = time.perf_counter() - started
                    return outcome


def our_arm(
    tab: BrowserTab,
    notebooks: dict[str, Notebook] | None,
    variables: dict[str, kernel_tasks.Summary] | None = None,
) -> Arm:
    """An arm through our websocket: with the notebook's other cells unless `notebooks` is
    None, with the kernel's variables if `variables`."""

    async def run(task: Task, prefix: str) -> Outcome:
        notebook = None if notebooks is None else notebooks[task.notebook]
        message = tab.message(task, notebook, prefix)
        if variables is not None:
            message["variables"] = variables[task.notebook].variables
        return await tab.suggest(message)

    return run


def jupyter_ai_arm(llama_url: str, max_tokens: int) -> Arm:
    """The peer: Jupyter AI 2's `openai` provider on llama-server's completion API."""
    from jupyter_ai_magics.models.completion import (
        InlineCompletionRequest,
        InlineCompletionStreamChunk,
    )
    from jupyter_ai_magics.partner_providers.openai import OpenAIProvider

    provider = OpenAIProvider(
        model_id="gemma-3-270m",
        openai_api_base=f"{llama_url}/v1",
        openai_api_key="unused",
        max_tokens=max_tokens,
        temperature=0.0,
    )
    numbers = iter(range(1, 1 << 30))

    async def run(task: Task, prefix: str) -> Outcome:
        request = InlineCompletionRequest(
            number=next(numbers),
            path=task.notebook,
            mime=MIME,
            prefix=prefix[-JUPYTER_AI_MAX_CHARS:],
            suffix=task.suffix[:JUPYTER_AI_MAX_CHARS],
            language=LANGUAGE,
            cell_id=task.id,
            stream=True,
        )
        outcome = Outcome()
        started = time.perf_counter()
        try:
            async for reply in provider.stream_inline_completions(request):
                if not isinstance(reply, InlineCompletionStreamChunk):
                    continue
                outcome.text = reply.response.insertText
                if outcome.first_text_s is None and outcome.text:
                    outcome.first_text_s = time.perf_counter() - started
                if reply.done:
                    break
        except Exception as exc:  # shown as the arm's error, as Jupyter AI would
            outcome.error = f"{type(exc).__name__}: {exc}"[:200]
        outcome.done_s = time.perf_counter() - started
        return outcome

    return run


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Record:
    task: str
    arm: str
    target: str
    key: str
    suggestion: str
    shown_first_line: str
    exact: bool
    edit_similarity: float
    prompt_tokens: int
    first_text_s: float | None
    done_s: float | None
    request_bytes: int | None
    error: str | None


@dataclass
class Summary:
    arm: str
    label: str
    tasks: int
    exact_match: float
    key_match: float | None  # the kernel tasks: starts with what only the kernel knows
    edit_similarity: float
    empty: float
    errors: int
    prompt_tokens: float
    first_text_p50_ms: float | None
    first_text_p90_ms: float | None
    done_p50_ms: float | None
    done_p90_ms: float | None
    over_default_timeout: int  # first text later than the server's default deadline, 5 s
    mean_request_bytes: float | None
    error_titles: list[str] = field(default_factory=list)


def summarise(arm: str, records: Sequence[Record]) -> Summary:
    count = len(records)
    firsts = [r.first_text_s * 1000 for r in records if r.first_text_s is not None]
    dones = [r.done_s * 1000 for r in records if r.done_s is not None]
    sizes = [r.request_bytes for r in records if r.request_bytes is not None]
    keyed = [r for r in records if r.key]
    return Summary(
        arm=arm,
        label=ARMS[arm],
        tasks=count,
        exact_match=sum(r.exact for r in records) / count,
        key_match=(
            statistics.fmean(r.shown_first_line.startswith(r.key) for r in keyed) if keyed else None
        ),
        edit_similarity=statistics.fmean(r.edit_similarity for r in records),
        empty=sum(not r.shown_first_line for r in records) / count,
        errors=sum(r.error is not None for r in records),
        prompt_tokens=statistics.fmean(r.prompt_tokens for r in records),
        first_text_p50_ms=harness.percentile(firsts, 50),
        first_text_p90_ms=harness.percentile(firsts, 90),
        done_p50_ms=harness.percentile(dones, 50),
        done_p90_ms=harness.percentile(dones, 90),
        over_default_timeout=sum(
            r.first_text_s is not None and r.first_text_s > DEFAULT_TIMEOUT for r in records
        ),
        mean_request_bytes=statistics.fmean(sizes) if sizes else None,
        error_titles=sorted({r.error for r in records if r.error}),
    )


def record(task: Task, arm: str, outcome: Outcome, tokens: int) -> Record:
    shown = first_line(outcome.text)
    return Record(
        task=task.id,
        arm=arm,
        target=task.target,
        key=task.key,
        suggestion=outcome.text,
        shown_first_line=shown,
        exact=exact_match(outcome.text, task.target),
        edit_similarity=edit_similarity(shown, task.target.rstrip()),
        prompt_tokens=tokens,
        first_text_s=outcome.first_text_s,
        done_s=outcome.done_s,
        request_bytes=outcome.request_bytes,
        error=outcome.error,
    )


@contextlib.asynccontextmanager
async def our_tab(
    llama_url: str, workdir: Path, settings: dict[str, Any], max_tokens: int
) -> AsyncIterator[BrowserTab]:
    async with (
        harness.jupyter_server(llama_url, workdir, {"JupyterAIInline": settings}) as jupyter,
        BrowserTab.opened(jupyter, max_tokens) as tab,
    ):
        tab.timeout = REQUEST_TIMEOUT  # a cold prompt's first chunk may take long
        yield tab


async def measure(arm: Arm, task: Task, url: str, warm: bool) -> tuple[Outcome, int]:
    """One task of one arm, cold (both slots erased first): its outcome and the prompt
    tokens the measured request made llama-server evaluate."""
    async with httpx.AsyncClient(timeout=10) as client:
        await harness.erase_slots(client, url, SLOTS)
    if warm and task.prefix:
        await asyncio.wait_for(arm(task, task.prefix[:-1]), REQUEST_TIMEOUT)
    before = await prompt_tokens(url)
    try:
        outcome = await asyncio.wait_for(arm(task, task.prefix), REQUEST_TIMEOUT)
    except TimeoutError:
        outcome = Outcome(error=f"no done chunk in {REQUEST_TIMEOUT:.0f} s")
    return outcome, await prompt_tokens(url) - before


async def run(args: argparse.Namespace) -> dict[str, Any]:
    arms: list[str] = args.arms or (QUICK_ARMS if args.quick else DEFAULT_ARMS)[args.tasks]
    if "kernel" in arms and args.tasks != "kernel":
        raise SystemExit("the kernel arm needs the kernel tasks: --tasks kernel")
    max_tokens = args.max_tokens or MAX_TOKENS[args.tasks]
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        workdir = Path(tmp)
        data = args.data
        if args.tasks == "kernel":
            data = workdir / "kernel-tasks"
            kernel_tasks.write(data)
        tasks, notebooks = harness.load_tasks(data)
        tasks = tasks[: args.limit] if args.limit is not None else tasks
        variables = None
        if args.tasks == "kernel":
            variables = await kernel_tasks.variables(data, {task.notebook for task in tasks})
        model = await asyncio.to_thread(harness.default_model, args.model)
        (workdir / "slots").mkdir()
        extra = ["--slot-save-path", str(workdir / "slots"), "--cache-ram", "0"]
        async with (
            harness.llama_server(model, "quality", extra, ctx_size=CTX_SIZE, parallel=SLOTS) as url,
            contextlib.AsyncExitStack() as stack,
        ):
            settings: dict[str, Any] = {"first_text_timeout": args.first_text_timeout}
            if args.above_chars is not None:
                settings["context_above_chars"] = args.above_chars
            if args.below_chars is not None:
                settings["context_below_chars"] = args.below_chars
            runners: dict[str, Arm] = {}
            if {"cells", "current", "kernel"} & set(arms):
                tab = await stack.enter_async_context(
                    our_tab(url, workdir / "jupyter", settings, max_tokens)
                )
                runners["cells"] = our_arm(tab, notebooks)
                runners["current"] = our_arm(tab, None)
                runners["kernel"] = our_arm(tab, notebooks, variables)
            if "outputs" in arms:
                with_outputs = {**settings, "include_outputs": True}
                tab = await stack.enter_async_context(
                    our_tab(url, workdir / "jupyter-outputs", with_outputs, max_tokens)
                )
                assert tab.budget["include_outputs"], "the server does not include outputs"
                runners["outputs"] = our_arm(tab, notebooks)
            if "jupyter-ai" in arms:
                runners["jupyter-ai"] = jupyter_ai_arm(url, max_tokens)
            records: dict[str, list[Record]] = {arm: [] for arm in arms}
            for i, task in enumerate(tasks):
                turn = i % len(arms)  # each arm goes first in turn
                for arm in arms[turn:] + arms[:turn]:
                    outcome, tokens = await measure(runners[arm], task, url, args.warm)
                    records[arm].append(record(task, arm, outcome, tokens))
                if args.progress:
                    done = ", ".join(f"{arm} {sum(r.exact for r in records[arm])}" for arm in arms)
                    print(f"{i + 1}/{len(tasks)} exact: {done}", file=sys.stderr)
    summaries = [summarise(arm, records[arm]) for arm in arms]
    return {
        "task_set": args.tasks,
        "tasks": len(tasks),
        "max_tokens": max_tokens,
        "cache": "warm" if args.warm else "cold",
        "summaries": [asdict(s) for s in summaries],
        "kernel_summaries": [asdict(s) for s in (variables or {}).values()],
        "records": [asdict(r) for arm in arms for r in records[arm]],
    }


def report(numbers: dict[str, Any]) -> None:
    summaries = [Summary(**s) for s in numbers["summaries"]]
    print(
        f"## Line completion on {numbers['tasks']} tasks of the {numbers['task_set']} set "
        f"({numbers['max_tokens']} tokens at most, one greedy suggestion, "
        f"{numbers['cache']} prompt cache)\n"
    )
    headers = [
        "arm", "exact match", "edit similarity", "starts with the key", "empty", "errors",
        "prompt tokens (mean)", "first text p50 ms", "first text p90 ms", "done p50 ms",
        "done p90 ms", "first text > 5 s", "request bytes (mean)",
    ]  # fmt: skip
    rows = [
        [
            f"{s.arm} ({s.label})", f"{s.exact_match:.1%}", f"{s.edit_similarity:.3f}",
            None if s.key_match is None else f"{s.key_match:.1%}", f"{s.empty:.1%}", s.errors,
            round(s.prompt_tokens), s.first_text_p50_ms, s.first_text_p90_ms, s.done_p50_ms,
            s.done_p90_ms, s.over_default_timeout,
            None if s.mean_request_bytes is None else round(s.mean_request_bytes),
        ]
        for s in summaries
    ]  # fmt: skip
    print(harness.markdown_table(headers, rows) + "\n")
    for s in summaries:
        for title in s.error_titles:
            print(f"- {s.arm} error: {title}")
    if numbers["kernel_summaries"]:
        print("### The kernel's summary (a silent execution after the cells ran)\n")
        headers = ["notebook", "variables", "round trip ms", "bytes"]
        rows = [
            [s["notebook"], len(s["variables"]), round(s["round_trip_ms"], 1), s["bytes"]]
            for s in numbers["kernel_summaries"]
        ]
        print(harness.markdown_table(headers, rows) + "\n")


QUICK = {"limit": 6, "above_chars": 1000, "below_chars": 500, "max_tokens": 16}
"""The defaults of `--quick` (CI runs it so the script cannot rot): six tasks, arms cells and
current (cells and kernel for the kernel tasks), a smaller budget of other cells and shorter
suggestions, so that cold prompts on 2 busy cores stay quick; options given explicitly
still apply. Six tasks say little about quality."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 6 tasks, two arms")
    add("--tasks", choices=list(MAX_TOKENS), default="notebooks", help="the task set")
    add("--limit", type=int, help="the first N tasks only")
    add("--arms", type=harness.names_list(list(ARMS)), help=f"some of {','.join(ARMS)}")
    add("--data", type=Path, default=harness.DATA, help="notebooks: tasks.jsonl, notebooks.jsonl")
    add("--model", type=Path, help="GGUF file (default: the default model, gemma 3 270M)")
    add("--max-tokens", type=int, help="default 48 (notebooks), 24 (kernel)")
    add("--warm", action="store_true", help="send the previous keystroke's request first")
    add("--first-text-timeout", type=float, default=FIRST_TEXT_TIMEOUT, help="server default: 15")
    add("--above-chars", type=int, help="context_above_chars (server default: 6000)")
    add("--below-chars", type=int, help="context_below_chars (server default: 2000)")
    add("--progress", action="store_true", help="a line per task on stderr")
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(
        parser, argv, QUICK, "a smoke test on a few tasks; the numbers mean little"
    )
    return harness.run_and_report(run, report, args, "the times are noisy")


if __name__ == "__main__":
    raise SystemExit(main())
