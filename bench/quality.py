"""How good are the suggestions? Line completions on notebooks, through our websocket, and the
peer; whole statements and blocks where a block starts.

Run from the repository root (needs the `local` and `test` extras, and `langchain-openai` for
Jupyter AI's OpenAI provider of the peer arm)::

    python bench/quality.py                   # 120 notebook tasks, 4 arms
    python bench/quality.py --tasks kernel    # 16 tasks only the kernel can answer, 2 arms
    python bench/quality.py --tasks empty-line  # 104 statements and blocks, 2 arms
    python bench/quality.py --limit 4 --arms cells,current
    python bench/quality.py --quick           # smoke run for CI: 6 tasks
    python bench/quality.py --quick --tasks kernel
    python bench/quality.py --quick --tasks empty-line
    python bench/quality.py --json quality.json  # and the records so far: quality.partial.json

Task sets (`--tasks`): `notebooks`, `tasks.jsonl` of `--data` (default `../shared/eval` beside
the repository, see its README): a notebook cell cut inside one of its lines, `target` the
rest of that line; `kernel`, the notebooks of `bench/kernel_tasks.py`, run for real in a
Python kernel, whose answers only the kernel knows (a column, a key, a shape, a parameter);
`empty-line`, cut here from `notebooks.jsonl` of `--data` (`empty_line_tasks`): the cursor on
an empty line where the engine lets a suggestion run to the end of a block (after a comment)
or stops it at the end of its first line (after a blank line), the target what follows:

* Which lines qualify: in a code cell other than a notebook's first code cell (its imports
  and setup), not one starting with a cell magic (`%%`), a line that is neither blank nor a
  comment and follows a `#` comment line or a blank line of the same cell (not its first
  line) and starts a statement that parses (`ast`; magics, shell lines, prose in strings and
  clauses like `else:` do not).
* The target: that statement, over as many lines as it takes to parse (`model = fit(x,` and
  its continuation), or, for a compound statement (`def`, `for`, `if`, `with`, `class`,
  `try`, a decorated `def`, ...), the whole block: the lines indented further than its first
  one and the blank lines between them, up to where the indentation returns (an `if`
  without its `else:`), trailing blank lines left out; cut to its first whole lines within
  12 lines and 400 characters (a first line longer than that does not qualify).
* The cursor: after the line's indentation (what the editor's auto-indent leaves) on an
  otherwise empty line: `prefix` is the cell up to there, `suffix` the rest of the cell
  after the target (a newline and what follows, or nothing), so `prefix + target + suffix`
  is the cell. The other cells go as for the notebook tasks (the arms below).
* The sample: at most 4 qualifying lines per notebook (`random.Random(f"21:{notebook}")`),
  all shuffled with seed 21, so that `--limit` and `--quick` take several notebooks. The 26
  notebooks of `../shared/eval` give 104 tasks (of 1917 qualifying lines), 30 of them with a
  target of several lines.
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
other cells (the tab follows the status, as the browser does). `--layouts cells,file` runs
each of our arms on one server per `prompt_layout` (the arms named `cells:file`, ...):
`cells`, the other cells as they are (llama.cpp's `/infill`: the cells above as separate
`input_extra` files); `file`, the notebook as one Python file with `# %%` cell markers (a
model with FIM tokens: its family's FIM prompt on `/completion`). Our servers are told the
model file's name as their `model` (as the managed model names itself): its FIM family.

Scores of the suggestion's first line (the text inserted at the cursor, trailing whitespace
stripped) against the target: exact match and edit similarity (1 - Levenshtein distance /
longer length), as CodeXGLUE line completion, RepoBench and CrossCodeEval score; for the
kernel tasks also `key`: the suggestion starts with what only the kernel knows. The
empty-line tasks score the whole suggestion: `first line exact` (its first line is the
target's, trailing whitespace stripped), `edit similarity` of the whole suggestion to the
whole target, and the `takeable share`: the length of the longest common prefix of suggestion
and target over the target's length (what a user gets by accepting and deleting from where
it goes wrong), averaged over the tasks; `multi-line` is the share of suggestions of several
lines; a second table splits the tasks by the line above the cursor (a comment or a blank
line). Costs: the
prompt tokens llama-server evaluated (`/metrics`), the time from sending the request to the
first non-empty text (`first text`) and to the last chunk (`done`), and the UTF-8 size of the
request message as the browser serialises it (`JSON.stringify`).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
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

MAX_TOKENS = {"notebooks": 48, "kernel": 24, "empty-line": 128}
"""Per task set; 128 is `c.JupyterAIInline.max_tokens`'s default (a block may be long)."""
CTX_SIZE = 8192  # c.JupyterAIInline.local_ctx_size's default
SLOTS = 2  # c.JupyterAIInline.local_parallel's default
MIME = "text/x-ipython"  # a notebook cell's editor
LANGUAGE = "python"  # languageOf(mime) in src/editor.ts
REQUEST_TIMEOUT = 120.0  # s, one request read to its end (then counted as an error)
ERASE_TIMEOUT = 60.0  # s, erasing the slots (it waits for a running batch: long on busy cores)
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
    "empty-line": ["cells", "current"],
}
QUICK_ARMS = {
    "notebooks": ["cells", "current"],
    "kernel": ["cells", "kernel"],
    "empty-line": ["cells", "current"],
}

KINDS = ("code", "markdown", "raw")
LAYOUTS = ["cells", "file", "auto"]  # c.JupyterAIInline.prompt_layout

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


# -- the empty-line tasks ----------------------------------------------------------------------

EMPTY_LINE_SEED = 21
"""The sample's seed (issue 21): the same notebooks give the same tasks in the same order."""
EMPTY_LINE_PER_NOTEBOOK = 4
"""At most this many tasks of a notebook (a random sample of its qualifying lines)."""
TARGET_MAX_LINES = 12
TARGET_MAX_CHARS = 400
"""A longer block is cut to its first whole lines within both limits (not a longer line)."""
STATEMENT_MAX_LINES = 40
"""How far a statement is looked for: one that does not parse within this many lines (a
magic, a shell line, prose in a string, an `else:` clause) does not qualify."""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parses(lines: Sequence[str]) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError):
        return None


def statement_lines(lines: Sequence[str], start: int) -> int | None:
    """How many lines the statement starting at `lines[start]` spans, None if none does.

    The fewest lines that parse as one statement; a compound statement (`def`, `for`, `if`,
    `with`, `class`, `try`, `while`, a decorated `def`, ...) goes on over the lines indented
    further than its first one (and blank lines between them), up to where the indentation
    returns, and must then still parse. Trailing blank lines are not part of it."""
    for end in range(start + 1, min(len(lines), start + STATEMENT_MAX_LINES) + 1):
        module = _parses(lines[start:end])
        if module is None:
            continue
        if len(module.body) != 1:
            return None  # `a; b` or a line that is no statement of its own
        if isinstance(module.body[0], ast.stmt) and hasattr(module.body[0], "body"):
            base = _indent(lines[start])
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
                end += 1
            while not lines[end - 1].strip():
                end -= 1
            if _parses(lines[start:end]) is None:
                return None
        return end - start
    return None


def cut_target(lines: Sequence[str]) -> int:
    """How many of a statement's `lines` the target keeps: whole lines within
    `TARGET_MAX_LINES` and `TARGET_MAX_CHARS` (0 if the first line alone is longer)."""
    kept, size = 0, -1
    for line in lines[:TARGET_MAX_LINES]:
        size += len(line) + 1
        if size > TARGET_MAX_CHARS:
            break
        kept += 1
    return kept


def empty_line_candidates(name: str, notebook: Notebook) -> list[Task]:
    """Every qualifying empty-line task of a notebook, in the notebook's order."""
    tasks: list[Task] = []
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell["cell_type"] == "code"]
    for index in code_cells[1:]:  # not the first code cell (the imports and setup)
        source = notebook.cells[index]["source"]
        if source.lstrip().startswith("%%"):
            continue  # a cell magic: not Python
        lines = source.split("\n")
        for number in range(1, len(lines)):
            previous, line = lines[number - 1].strip(), lines[number]
            if previous and not previous.startswith("#"):
                continue  # after a line of code
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            count = statement_lines(lines, number)
            kept = 0 if count is None else cut_target(lines[number : number + count])
            if not kept:
                continue
            indent = line[: _indent(line)]
            prefix = "\n".join(lines[:number]) + "\n" + indent
            target = "\n".join(lines[number : number + kept])[len(indent) :]
            suffix = source[len(prefix) + len(target) :]
            stem = name.removesuffix(".ipynb")
            tasks.append(Task(f"{stem}:{index}:{number}", name, index, prefix, suffix, target))
    return tasks


def empty_line_tasks(notebooks: dict[str, Notebook]) -> list[Task]:
    """The empty-line task set: at most `EMPTY_LINE_PER_NOTEBOOK` qualifying lines of each
    notebook, sampled with `EMPTY_LINE_SEED`, all in a shuffled order (so `--limit` and
    `--quick` take several notebooks)."""
    tasks: list[Task] = []
    for name, notebook in notebooks.items():
        candidates = empty_line_candidates(name, notebook)
        rng = random.Random(f"{EMPTY_LINE_SEED}:{name}")
        picked = rng.sample(range(len(candidates)), min(EMPTY_LINE_PER_NOTEBOOK, len(candidates)))
        tasks += [candidates[i] for i in sorted(picked)]
    random.Random(EMPTY_LINE_SEED).shuffle(tasks)
    return tasks


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


def first_line_exact(suggestion: str, target: str) -> bool:
    """The empty-line tasks: the suggestion's first line is the target's (trailing whitespace
    stripped)."""
    return first_line(suggestion) == first_line(target)


def common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of `a` and `b`."""
    size = 0
    for char_a, char_b in zip(a, b, strict=False):
        if char_a != char_b:
            break
        size += 1
    return size


def takeable_share(suggestion: str, target: str) -> float:
    """The share of the target a user could take from the suggestion (accepting it, then
    deleting where it goes wrong): the longest common prefix over the target's length (both
    without trailing whitespace; 1.0 for an empty target)."""
    target = target.rstrip()
    return 1.0 if not target else common_prefix(suggestion.rstrip(), target) / len(target)


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
    takeable: float | None = None  # the empty-line tasks: the share of the target to take
    multi_line: bool = False  # the suggestion has more than one line
    after: str = ""  # the empty-line tasks: "comment" or "blank", the line above the cursor


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
    takeable_share: float | None = None  # the empty-line tasks
    multi_line: float = 0.0  # the share of suggestions with more than one line


def arm_name(arm: str, layout: str | None) -> str:
    """An arm's name in the tables: with its server's prompt layout, when one was chosen
    (`cells:file`)."""
    return arm if layout is None else f"{arm}:{layout}"


def arm_label(name: str) -> str:
    """What an arm (`arm_name`) is."""
    arm, _, layout = name.partition(":")
    return f"{ARMS[arm]}, {layout} layout" if layout else ARMS[arm]


def summarise(arm: str, records: Sequence[Record]) -> Summary:
    count = len(records)
    firsts = [r.first_text_s * 1000 for r in records if r.first_text_s is not None]
    dones = [r.done_s * 1000 for r in records if r.done_s is not None]
    sizes = [r.request_bytes for r in records if r.request_bytes is not None]
    keyed = [r for r in records if r.key]
    return Summary(
        arm=arm,
        label=arm_label(arm),
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
        takeable_share=(
            statistics.fmean(r.takeable for r in records if r.takeable is not None)
            if any(r.takeable is not None for r in records)
            else None
        ),
        multi_line=sum(r.multi_line for r in records) / count,
    )


def line_above(task: Task) -> str:
    """The empty-line tasks: `comment` or `blank`, the line above the cursor's."""
    above = task.prefix.rsplit("\n", 2)[-2] if "\n" in task.prefix else ""
    return "blank" if not above.strip() else "comment"


def record(task: Task, arm: str, outcome: Outcome, tokens: int, task_set: str) -> Record:
    """One outcome scored: for the empty-line tasks the first line's exact match, the whole
    suggestion's edit similarity to the whole target and the share of it to take; else the
    first line's exact match and edit similarity to the rest of the line."""
    shown = first_line(outcome.text)
    empty_line = task_set == "empty-line"
    suggestion = outcome.text.rstrip()
    return Record(
        task=task.id,
        arm=arm,
        target=task.target,
        key=task.key,
        suggestion=outcome.text,
        shown_first_line=shown,
        exact=(
            first_line_exact(outcome.text, task.target)
            if empty_line
            else exact_match(outcome.text, task.target)
        ),
        edit_similarity=(
            edit_similarity(suggestion, task.target.rstrip())
            if empty_line
            else edit_similarity(shown, task.target.rstrip())
        ),
        prompt_tokens=tokens,
        first_text_s=outcome.first_text_s,
        done_s=outcome.done_s,
        request_bytes=outcome.request_bytes,
        error=outcome.error,
        takeable=takeable_share(outcome.text, task.target) if empty_line else None,
        multi_line="\n" in suggestion.strip(),
        after=line_above(task) if empty_line else "",
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
    async with httpx.AsyncClient(timeout=ERASE_TIMEOUT) as client:
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
        if args.tasks == "empty-line":
            notebooks = harness.load_notebooks(data)
            tasks = empty_line_tasks(notebooks)
        else:
            tasks, notebooks = harness.load_tasks(data)
        tasks = tasks[: args.limit] if args.limit is not None else tasks
        variables = None
        if args.tasks == "kernel":
            variables = await kernel_tasks.variables(data, {task.notebook for task in tasks})
        model = await asyncio.to_thread(harness.default_model, args.model)
        (workdir / "slots").mkdir()
        extra = ["--slot-save-path", str(workdir / "slots"), "--cache-ram", "0"]
        async with (
            harness.llama_server(
                model, "quality", extra, ctx_size=CTX_SIZE, parallel=SLOTS, threads=args.threads
            ) as url,
            contextlib.AsyncExitStack() as stack,
        ):
            settings: dict[str, Any] = {
                "first_text_timeout": args.first_text_timeout,
                "model": model.name,  # as the managed model names itself (its FIM family)
            }
            if args.above_chars is not None:
                settings["context_above_chars"] = args.above_chars
            if args.below_chars is not None:
                settings["context_below_chars"] = args.below_chars
            runners: dict[str, Arm] = {}
            for layout in args.layouts or [None]:
                ours = settings if layout is None else {**settings, "prompt_layout": layout}
                name = partial(arm_name, layout=layout)
                if {"cells", "current", "kernel"} & set(arms):
                    tab = await stack.enter_async_context(
                        our_tab(url, workdir / f"jupyter-{layout}", ours, max_tokens)
                    )
                    runners[name("cells")] = our_arm(tab, notebooks)
                    runners[name("current")] = our_arm(tab, None)
                    runners[name("kernel")] = our_arm(tab, notebooks, variables)
                if "outputs" in arms:
                    with_outputs = {**ours, "include_outputs": True}
                    tab = await stack.enter_async_context(
                        our_tab(
                            url, workdir / f"jupyter-outputs-{layout}", with_outputs, max_tokens
                        )
                    )
                    assert tab.budget["include_outputs"], "the server does not include outputs"
                    runners[name("outputs")] = our_arm(tab, notebooks)
            if "jupyter-ai" in arms:
                runners["jupyter-ai"] = jupyter_ai_arm(url, max_tokens)
            names = [
                arm_name(arm, layout)
                for arm in arms
                for layout in (args.layouts if args.layouts and arm != "jupyter-ai" else [None])
            ]
            records: dict[str, list[Record]] = {name: [] for name in names}
            for i, task in enumerate(tasks):
                turn = i % len(names)  # each arm goes first in turn
                for arm in names[turn:] + names[:turn]:
                    outcome, tokens = await measure(runners[arm], task, url, args.warm)
                    records[arm].append(record(task, arm, outcome, tokens, args.tasks))
                if args.progress:
                    done = ", ".join(f"{arm} {sum(r.exact for r in records[arm])}" for arm in names)
                    print(f"{i + 1}/{len(tasks)} exact: {done}", file=sys.stderr)
                if args.json:  # the records so far, for a run stopped before its end
                    so_far = [asdict(r) for arm in names for r in records[arm]]
                    args.json.with_suffix(".partial.json").write_text(json.dumps(so_far))
    summaries = [summarise(arm, records[arm]) for arm in names]
    by_line_above = [
        asdict(summarise(arm, subset)) | {"after": after}
        for arm in names
        for after in ("comment", "blank")
        if args.tasks == "empty-line" and (subset := [r for r in records[arm] if r.after == after])
    ]
    return {
        "task_set": args.tasks,
        "tasks": len(tasks),
        "max_tokens": max_tokens,
        "cache": "warm" if args.warm else "cold",
        "summaries": [asdict(s) for s in summaries],
        "by_line_above": by_line_above,
        "multi_line_targets": sum("\n" in task.target for task in tasks),
        "kernel_summaries": [asdict(s) for s in (variables or {}).values()],
        "layouts": args.layouts,
        "records": [asdict(r) for arm in names for r in records[arm]],
    }


def report_empty_line(numbers: dict[str, Any]) -> None:
    """The empty-line tasks' table, and the same by the line above the cursor."""
    print(
        f"## Empty-line completion on {numbers['tasks']} tasks "
        f"({numbers['multi_line_targets']} with a target of several lines; "
        f"{numbers['max_tokens']} tokens at most, one greedy suggestion, "
        f"{numbers['cache']} prompt cache)\n"
    )
    headers = [
        "arm", "tasks", "first line exact", "edit similarity (whole target)", "takeable share",
        "multi-line", "empty", "errors", "prompt tokens (mean)", "first text p50 ms",
        "first text p90 ms", "done p50 ms", "done p90 ms", "first text > 5 s",
        "request bytes (mean)",
    ]  # fmt: skip

    def row(s: Summary, label: str) -> list[object]:
        return [
            label, s.tasks, f"{s.exact_match:.1%}", f"{s.edit_similarity:.3f}",
            f"{s.takeable_share or 0.0:.1%}", f"{s.multi_line:.1%}", f"{s.empty:.1%}", s.errors,
            round(s.prompt_tokens), s.first_text_p50_ms, s.first_text_p90_ms, s.done_p50_ms,
            s.done_p90_ms, s.over_default_timeout,
            None if s.mean_request_bytes is None else round(s.mean_request_bytes),
        ]  # fmt: skip

    summaries = [Summary(**s) for s in numbers["summaries"]]
    print(harness.markdown_table(headers, [row(s, f"{s.arm} ({s.label})") for s in summaries]))
    print()
    for s in summaries:
        for title in s.error_titles:
            print(f"- {s.arm} error: {title}")
    print("### By the line above the cursor (a comment: multi-line; a blank line: one line)\n")
    rows = []
    for numbers_of in numbers["by_line_above"]:
        after = numbers_of.pop("after")
        s = Summary(**numbers_of)
        rows.append(row(s, f"{s.arm}, after a {after} line"))
    print(harness.markdown_table(headers, rows) + "\n")


def report(numbers: dict[str, Any]) -> None:
    if numbers["task_set"] == "empty-line":
        report_empty_line(numbers)
        return
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
    add("--max-tokens", type=int, help="default 48 (notebooks), 24 (kernel), 128 (empty-line)")
    add("--warm", action="store_true", help="send the previous keystroke's request first")
    add("--first-text-timeout", type=float, default=FIRST_TEXT_TIMEOUT, help="server default: 15")
    add("--above-chars", type=int, help="context_above_chars (server default: 6000)")
    add("--below-chars", type=int, help="context_below_chars (server default: 2000)")
    add(
        "--layout", "--layouts", dest="layouts", type=harness.names_list(LAYOUTS),
        help="prompt_layout of our servers, one server each: some of cells,file,auto "
        "(default: the server's default)",
    )  # fmt: skip
    add("--threads", type=int, help="llama-server's threads (default: all cores; 1 on busy cores)")
    add("--progress", action="store_true", help="a line per task on stderr")
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(
        parser, argv, QUICK, "a smoke test on a few tasks; the numbers mean little"
    )
    return harness.run_and_report(run, report, args, "the times are noisy")


if __name__ == "__main__":
    raise SystemExit(main())
