"""Assemble the prompt from the current cell and its neighbours, within a budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from functools import partial

from .models import CellKind, CellText, CompletionRequest, ContextBudget, FimPrompt, KernelVariable

LINE_COMMENTS = {
    "python": "#", "r": "#", "julia": "#", "ruby": "#", "bash": "#", "sh": "#", "perl": "#",
    "javascript": "//", "typescript": "//", "java": "//", "c": "//", "cpp": "//", "c++": "//",
    "csharp": "//", "go": "//", "rust": "//", "scala": "//", "kotlin": "//", "swift": "//",
    "sql": "--", "haskell": "--", "lua": "--", "matlab": "%", "octave": "%", "tex": "%",
}  # fmt: skip


def comment(text: str, language: str) -> str:
    """Write text as line comments of the language."""
    mark = LINE_COMMENTS.get(language.lower(), "#")
    return "\n".join(f"{mark} {line}".rstrip() for line in text.splitlines())


def render_cell(cell: CellText, language: str, budget: ContextBudget) -> str:
    """A cell as it appears in the prompt: code as is, prose as comments."""
    if cell.kind != "code":
        return comment(cell.source, language)
    if budget.include_outputs and cell.outputs and budget.output_chars:
        output = cell.outputs[: budget.output_chars]
        return f"{cell.source}\n{comment('Output:', language)}\n{comment(output, language)}"
    return cell.source


# -- The budget rule: which other cells go in, and how much of each. The browser applies the
# same rule to the cells a request carries (`pickAbove` and `pickBelow` of `src/neighbours.ts`);
# both are tested against the cases of `tests/budget_cases.json`.

SEPARATOR = 2
"""The blank line between cells in a prompt."""

ANCHOR_STEPS = 4
"""The start of the cells above moves in steps of a quarter of their budget."""


def cell_size(cell: CellText, budget: ContextBudget) -> int:
    """What a cell costs of its side's budget: its source, its outputs when they go in, and
    a separator."""
    outputs = cell.outputs[: budget.output_chars] if budget.include_outputs else ""
    return len(cell.source) + (len(outputs) if cell.kind == "code" else 0) + SEPARATOR


def anchored(sizes: Sequence[int], chars: int) -> int:
    """How many of the cells above (their `cell_size`s, nearest first) go in whole: all if
    they fit in `chars`, else those after a start rounded up to a grid of `chars /
    ANCHOR_STEPS` over the notebook's text. Moving down the notebook, or typing, keeps the
    start, and so the model server's cached prompt prefix, until the text above grows by a
    grid step; the cells taken fill between 3/4 of the budget (less a cell) and all of it."""
    total = sum(sizes)
    limit = total
    if total > chars:
        step = max(chars // ANCHOR_STEPS, 1)
        limit = total - -(-(total - chars) // step) * step
    count = spent = 0
    for size in sizes:
        spent += size
        if spent > limit:
            break
        count += 1
    return count


def pick_above(
    cells: Sequence[CellText],
    budget: ContextBudget,
    write: Callable[[CellText], CellText] = lambda cell: cell,
) -> list[CellText]:
    """The cells above (all of them, nearest first) that go in, nearest first: whole, from
    the anchored start (`anchored` of their `cell_size`s), blank ones skipped, at most
    `max_cells`. When none goes in whole, the nearest one alone (unless blank), cut to its
    last `above_chars` characters. The cells taken are returned as `write` makes them (the
    prompt writes them: see `take_above`), a cut one cut once written."""
    count = anchored([cell_size(cell, budget) for cell in cells], budget.above_chars)
    chosen = [cell for cell in cells[:count] if cell.source.strip()][: budget.max_cells]
    chars = budget.above_chars
    if not chosen and chars and cells and cells[0].source.strip():
        nearest = write(cells[0])
        return [replace(nearest, source=nearest.source[-chars:])]
    return [write(cell) for cell in chosen]


def pick_below(cells: Iterable[CellText], budget: ContextBudget) -> Iterator[CellText]:
    """The cells below that go in, nearest first until the budget is spent (each costs its
    `cell_size`), blank ones skipped, at most `max_cells`; the one that does not fit whole is
    cut, keeping its start. Read lazily."""
    left = budget.below_chars
    count = 0
    for cell in cells:
        if left <= 0 or count >= budget.max_cells:
            return
        if not cell.source.strip():
            continue
        cell = replace(cell, source=cell.source[:left])
        left -= cell_size(cell, budget)
        count += 1
        yield cell


def written(cell: CellText, language: str, budget: ContextBudget) -> CellText:
    """A cell as the prompt writes it (`render_cell`: prose as comments, outputs included),
    so that the budget rule measures and cuts what the prompt gets; blank when its source is."""
    source = render_cell(cell, language, budget) if cell.source.strip() else ""
    return replace(cell, source=source, outputs="")


def chosen_above(cells: Iterable[CellText], language: str, budget: ContextBudget) -> list[CellText]:
    """The cells above (all of them, nearest first) that go in, written, in document order:
    `pick_above`, anchored on the notebook's text (where the browser anchors the cells it
    sends), a cut cell cut as written."""
    chosen = pick_above(list(cells), budget, partial(written, language=language, budget=budget))
    return chosen[::-1]


def chosen_below(cells: Iterable[CellText], language: str, budget: ContextBudget) -> list[CellText]:
    """The cells below that go in, written, nearest first (document order): `pick_below` of
    the cells as written, so what each costs is what it adds to the prompt. Read lazily."""
    return list(pick_below((written(cell, language, budget) for cell in cells), budget))


def take_above(cells: Iterable[CellText], language: str, budget: ContextBudget) -> tuple[str, ...]:
    """The sources of `chosen_above`."""
    return tuple(cell.source for cell in chosen_above(cells, language, budget))


def cell_mark(kind: CellKind, language: str) -> str:
    """A cell's marker line in the percent format: `# %%`, `# %% [markdown]`, `# %% [raw]`."""
    return comment("%%" if kind == "code" else f"%% [{kind}]", language)


NAME = re.compile(r"[^\W\d]\w*")
VARIABLES_HEADING = "Variables in the running kernel:"


def take_variables(
    variables: Sequence[KernelVariable], cell: str, language: str, chars: int
) -> str:
    """The kernel's variables as a comment block of at most `chars` characters. The names
    the current cell uses get in first, then the others as the kernel listed them (most
    recently defined first); a line that does not fit is left out, never cut. The block
    lists the chosen ones in the kernel's order, so typing a name changes it only when that
    changes the choice (the model server keeps its cached prompt). Empty when none fit."""
    used = set(NAME.findall(cell))
    lines = {index: comment(f"{v.name}: {v.text}", language) for index, v in enumerate(variables)}
    heading = comment(VARIABLES_HEADING, language)
    left = chars - len(heading)
    chosen: list[int] = []
    for index in sorted(lines, key=lambda index: variables[index].name not in used):  # stable
        line = lines[index]
        if "\n" not in line and len(line) + 1 <= left:
            chosen.append(index)
            left -= len(line) + 1
    return "\n".join([heading, *(lines[index] for index in sorted(chosen))]) if chosen else ""


def build_prompt(
    request: CompletionRequest,
    budget: ContextBudget,
    above: Iterable[CellText] = (),
    below: Iterable[CellText] = (),
) -> FimPrompt:
    """The FIM prompt for a request; `above`/`below` are the other cells, nearest first
    (`above` all of them: see `take_above`; `below` is read lazily)."""
    language = request.language or "python"
    current = request.prefix + request.suffix
    above_cells = chosen_above(above, language, budget)
    below_cells = chosen_below(below, language, budget)
    return FimPrompt(
        prefix=request.prefix[-budget.prefix_chars :],
        suffix=request.suffix[: budget.suffix_chars],
        language=language,
        above=tuple(cell.source for cell in above_cells),
        below=tuple(cell.source for cell in below_cells),
        filename=(request.path or "").rsplit("/", 1)[-1],
        variables=take_variables(request.variables, current, language, budget.variables_chars),
        above_marks=tuple(cell_mark(cell.kind, language) for cell in above_cells),
        below_marks=tuple(cell_mark(cell.kind, language) for cell in below_cells),
        cell_mark=cell_mark("code", language),
    )
