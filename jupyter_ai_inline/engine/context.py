"""Assemble the prompt from the current cell and its neighbours, within a budget."""

from __future__ import annotations

from collections.abc import Iterable

from .models import CellText, CompletionRequest, ContextBudget, FimPrompt

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


def take_within(
    cells: Iterable[CellText],
    budget_chars: int,
    language: str,
    budget: ContextBudget,
    keep_end: bool,
) -> tuple[str, ...]:
    """Render cells nearest first until the budget is spent; returns document order.

    The cell that does not fit whole is cut, keeping the part nearest the cursor.
    """
    taken: list[str] = []
    left = budget_chars
    for cell in cells:
        if left <= 0 or len(taken) >= budget.max_cells:
            break
        if not cell.source.strip():
            continue
        text = render_cell(cell, language, budget)
        if len(text) > left:
            text = text[-left:] if keep_end else text[:left]
        taken.append(text)
        left -= len(text) + 2
    if keep_end:
        taken.reverse()
    return tuple(taken)


def build_prompt(
    request: CompletionRequest,
    budget: ContextBudget,
    above: Iterable[CellText] = (),
    below: Iterable[CellText] = (),
) -> FimPrompt:
    """The FIM prompt for a request; `above`/`below` are the other cells, nearest first.

    The iterables are consumed lazily, so a reader can fetch cells on demand.
    """
    language = request.language or "python"
    return FimPrompt(
        prefix=request.prefix[-budget.prefix_chars :],
        suffix=request.suffix[: budget.suffix_chars],
        language=language,
        above=take_within(above, budget.above_chars, language, budget, keep_end=True),
        below=take_within(below, budget.below_chars, language, budget, keep_end=False),
        filename=(request.path or "").rsplit("/", 1)[-1],
    )
