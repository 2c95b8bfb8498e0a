"""Assemble the prompt from the current cell and its neighbours, within a budget."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .models import CellText, CompletionRequest, ContextBudget, FimPrompt, KernelVariable

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


SEPARATOR = 2
"""The blank line between cells in a prompt."""

ANCHOR_STEPS = 4
"""The start of the cells above moves in steps of a quarter of their budget."""


def cell_size(cell: CellText, budget: ContextBudget) -> int:
    """What a cell costs of its side's budget: its source, its outputs when they go in, and
    a separator (the browser counts the same way: `src/context.ts`)."""
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


def take_above(cells: Iterable[CellText], language: str, budget: ContextBudget) -> tuple[str, ...]:
    """The cells above (all of them, nearest first) that go in, in document order: whole,
    from an anchored start (`anchored`). Only a nearest cell larger than the budget is cut,
    keeping its end."""
    cells = list(cells)
    count = anchored([cell_size(cell, budget) for cell in cells], budget.above_chars)
    chosen = [cell for cell in cells[:count] if cell.source.strip()][: budget.max_cells]
    taken = [render_cell(cell, language, budget) for cell in chosen]
    chars = budget.above_chars
    if not taken and chars and cells and cells[0].source.strip():
        taken.append(render_cell(cells[0], language, budget)[-chars:])
    taken.reverse()
    return tuple(taken)


def take_below(cells: Iterable[CellText], language: str, budget: ContextBudget) -> tuple[str, ...]:
    """Cells below, nearest first (document order) until the budget is spent; the one that
    does not fit whole is cut, keeping its start. Read lazily."""
    taken: list[str] = []
    left = budget.below_chars
    for cell in cells:
        if left <= 0 or len(taken) >= budget.max_cells:
            break
        if not cell.source.strip():
            continue
        text = render_cell(cell, language, budget)[:left]
        taken.append(text)
        left -= len(text) + SEPARATOR
    return tuple(taken)


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
    cell = request.prefix + request.suffix
    return FimPrompt(
        prefix=request.prefix[-budget.prefix_chars :],
        suffix=request.suffix[: budget.suffix_chars],
        language=language,
        above=take_above(above, language, budget),
        below=take_below(below, language, budget),
        filename=(request.path or "").rsplit("/", 1)[-1],
        variables=take_variables(request.variables, cell, language, budget.variables_chars),
    )
