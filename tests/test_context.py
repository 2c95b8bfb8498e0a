"""Prompt assembly from the current cell and its neighbours."""

from jupyter_ai_inline.engine import CellText, CompletionRequest, ContextBudget
from jupyter_ai_inline.engine.prompt import build_prompt

REQUEST = CompletionRequest(prefix="df.", suffix="\nplot(df)", language="python")


def cells(*sources: str, kind: str = "code") -> list[CellText]:
    return [CellText(kind=kind, source=s) for s in sources]  # type: ignore[arg-type]


def test_nearest_cells_first_within_budget_in_document_order() -> None:
    above = cells("c3 = 3", "c2 = 2", "c1 = 1")  # nearest first, 8 characters each
    prompt = build_prompt(REQUEST, ContextBudget(above_chars=16), above, cells("d1", "d2"))
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


def test_cells_below_are_read_lazily() -> None:
    read: list[int] = []

    def below():
        for i in range(1000):
            read.append(i)
            yield CellText(kind="code", source="x" * 100)

    build_prompt(REQUEST, ContextBudget(below_chars=500), (), below())
    assert len(read) <= 6


def notebook(count: int) -> list[str]:
    """Cells of 40 to 700 characters, like a real notebook's."""
    return [f"# cell {i}\n" + "x = 1\n" * (5 + (i * 37) % 110) for i in range(count)]


def window_start(sources: list[str], index: int, budget: ContextBudget) -> tuple[str, int]:
    """The first cell of the prompt (and the prompt's cells' size) for a cursor in `index`."""
    above = cells(*reversed(sources[:index]))
    prompt = build_prompt(REQUEST, budget, above)
    return prompt.above[0], sum(len(text) + 2 for text in prompt.above)


def test_the_prompt_start_stays_put_while_moving_down_a_notebook() -> None:
    """Adjacent cells share the prompt's start (the model server's cached prefix): it moves
    in grid steps, not with every cell, and the cells above still fill most of the budget."""
    sources = notebook(120)
    budget = ContextBudget(above_chars=6000)
    starts = [window_start(sources, index, budget) for index in range(30, 120)]
    firsts = [first for first, _ in starts]
    moves = sum(a != b for a, b in zip(firsts[1:], firsts[:-1], strict=True))
    assert moves <= len(starts) // 3
    sizes = [size for _, size in starts]
    assert max(sizes) <= 6000
    biggest_cell = max(len(source) + 2 for source in sources)
    assert min(sizes) >= 6000 * 3 // 4 - biggest_cell


def test_cells_above_are_whole_and_only_a_huge_nearest_cell_is_cut() -> None:
    budget = ContextBudget(above_chars=100)
    prompt = build_prompt(REQUEST, budget, cells("y" * 60, "z" * 60, "w" * 30))
    assert prompt.above == ("y" * 60,)
    assert build_prompt(REQUEST, budget, cells("q" * 500)).above == ("q" * 100,)
