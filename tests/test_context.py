"""Prompt assembly from the current cell and its neighbours."""

from jupyter_ai_inline.engine import CellText, CompletionRequest, ContextBudget
from jupyter_ai_inline.engine.context import build_prompt

REQUEST = CompletionRequest(prefix="df.", suffix="\nplot(df)", language="python")


def cells(*sources: str, kind: str = "code") -> list[CellText]:
    return [CellText(kind=kind, source=s) for s in sources]  # type: ignore[arg-type]


def test_nearest_cells_first_within_budget_in_document_order() -> None:
    above = cells("c3 = 3", "c2 = 2", "c1 = 1")  # nearest first
    prompt = build_prompt(REQUEST, ContextBudget(above_chars=14), above, cells("d1", "d2"))
    assert prompt.above == ("c2 = 2", "c3 = 3")
    assert prompt.full_prefix == "c2 = 2\n\nc3 = 3\n\ndf."
    assert prompt.full_suffix == "\nplot(df)\n\nd1\n\nd2"


def test_markdown_becomes_comments_of_the_cell_language() -> None:
    above = cells("# Title\nLoad the data", kind="markdown")
    assert build_prompt(REQUEST, ContextBudget(), above).above == ("# # Title\n# Load the data",)
    js = REQUEST.model_copy(update={"language": "javascript"})
    assert build_prompt(js, ContextBudget(), above).above == ("// # Title\n// Load the data",)


def test_a_huge_cell_is_cut_keeping_the_part_nearest_the_cursor() -> None:
    huge = "\n".join(f"line{i}" for i in range(10_000))
    budget = ContextBudget(above_chars=100, below_chars=50)
    prompt = build_prompt(REQUEST, budget, cells(huge), cells(huge))
    assert prompt.above[0].endswith("line9999") and len(prompt.above[0]) == 100
    assert prompt.below[0].startswith("line0\n") and len(prompt.below[0]) == 50


def test_empty_cells_are_skipped_and_cells_are_capped() -> None:
    above = cells("", "  ", *[f"x{i}" for i in range(100)])
    prompt = build_prompt(REQUEST, ContextBudget(max_cells=3), above)
    assert prompt.above == ("x2", "x1", "x0")


def test_outputs_only_when_asked_and_bounded() -> None:
    cell = [CellText(kind="code", source="df.columns", outputs="Index(['a', 'b'])" * 100)]
    assert build_prompt(REQUEST, ContextBudget(), cell).above == ("df.columns",)
    budget = ContextBudget(include_outputs=True, output_chars=17)
    assert build_prompt(REQUEST, budget, cell).above == (
        "df.columns\n# Output:\n# Index(['a', 'b'])",
    )


def test_iterables_are_read_lazily() -> None:
    read: list[int] = []

    def above():
        for i in range(1000):
            read.append(i)
            yield CellText(kind="code", source="x" * 100)

    build_prompt(REQUEST, ContextBudget(above_chars=500), above())
    assert len(read) <= 6


def test_the_language_comes_from_the_mime_type_when_not_given() -> None:
    assert CompletionRequest(prefix="", mime="text/x-ipython").language == "python"
    assert CompletionRequest(prefix="", mime="text/typescript").language == "typescript"
    assert CompletionRequest(prefix="", mime="text/x-julia", language="julia").language == "julia"
    prose = [CellText(kind="markdown", source="Plot it")]
    ts = CompletionRequest(prefix="", mime="text/typescript")
    assert build_prompt(ts, ContextBudget(), prose).above == ("// Plot it",)
