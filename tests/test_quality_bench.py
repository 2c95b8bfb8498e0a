"""The quality benchmark's scores and its copy of the browser's choice of cells."""

import json

import pytest

from bench.harness import percentile
from bench.quality import (
    DEFAULT_BUDGET,
    Notebook,
    browser_json,
    edit_similarity,
    exact_match,
    first_line,
    levenshtein,
    neighbours,
)


def code(source: str) -> dict[str, str]:
    return {"cell_type": "code", "source": source}


def markdown(source: str) -> dict[str, str]:
    return {"cell_type": "markdown", "source": source}


def test_first_line_is_what_the_cursor_gets_on_its_line() -> None:
    assert first_line("(x)  \n    return y\n") == "(x)"
    assert first_line("\nprint(x)") == ""
    assert first_line("") == ""


def test_exact_match_compares_the_first_line_without_trailing_whitespace() -> None:
    assert exact_match("fit(X, y)   \nmodel.predict(X)", "fit(X, y)")
    assert exact_match("fit(X, y)", "fit(X, y) ")
    assert not exact_match(" fit(X, y)", "fit(X, y)")  # leading space counts
    assert not exact_match("fit(X)", "fit(X, y)")
    assert not exact_match("", "fit(X, y)")


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("np.mean(x)", "np.mean(x)", 0),
        ("abc", "acb", 2),
    ],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


def test_edit_similarity_is_one_less_the_distance_over_the_longer_length() -> None:
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("same", "same") == 1.0
    assert edit_similarity("", "target") == 0.0
    assert edit_similarity("", "") == 1.0


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([float(i) for i in range(11)], 90) == pytest.approx(9.0)


def test_neighbours_are_nearest_first_and_skip_empty_cells() -> None:
    notebook = Notebook(
        cells=[markdown("# Title"), code("a = 1"), code("  \n"), code("CURRENT"), code("b = 2")],
        outputs=[None, "1", None, None, None],
    )
    above, below = neighbours(notebook, 3, DEFAULT_BUDGET)
    assert above == [code("a = 1"), markdown("# Title")]  # the empty cell is skipped
    assert below == [code("b = 2")]


def test_neighbours_take_whole_cells_above_and_cut_the_farthest_below() -> None:
    budget = {**DEFAULT_BUDGET, "above_chars": 12, "below_chars": 12}
    notebook = Notebook(
        cells=[
            code("first_line\nsecond"),
            code("x = 1"),
            code(""),
            code("y = 2"),
            code("z = 3\nw"),
        ],
        outputs=[None] * 5,
    )
    above, below = neighbours(notebook, 2, budget)
    # 7 + 19 = 26 characters (with separators) > 12: the start rounds up to the grid step (3)
    # at or after 26 - 12 = 14, i.e. 15: only "x = 1" (starting at 19) goes in, whole
    assert above == [code("x = 1")]
    # below, the farther cell keeps its start: "y = 2" (5) + 2 leave 5
    assert below == [code("y = 2"), code("z = 3")]


def test_neighbours_stop_at_max_cells() -> None:
    budget = {**DEFAULT_BUDGET, "max_cells": 2}
    notebook = Notebook(cells=[code(f"v{i} = {i}") for i in range(6)], outputs=[None] * 6)
    above, below = neighbours(notebook, 3, budget)
    assert [cell["source"] for cell in above] == ["v2 = 2", "v1 = 1"]
    assert [cell["source"] for cell in below] == ["v4 = 4", "v5 = 5"]


def test_outputs_go_with_code_cells_only_when_the_budget_includes_them() -> None:
    notebook = Notebook(
        cells=[markdown("Text"), code("print(1)"), code("x"), code("CURRENT")],
        outputs=[None, " 1\n", "", None],
    )
    without, _ = neighbours(notebook, 3, DEFAULT_BUDGET)
    assert all("outputs" not in cell for cell in without)
    budget = {**DEFAULT_BUDGET, "include_outputs": True, "output_chars": 400}
    above, _ = neighbours(notebook, 3, budget)
    assert above == [code("x"), {**code("print(1)"), "outputs": "1"}, markdown("Text")]
    # outputs count against the budget: 3 + 11 + 6 = 20 > 16, the start rounds up to 4: no
    # title
    tight = {**budget, "above_chars": 16}
    above, _ = neighbours(notebook, 3, tight)
    assert above == [code("x"), {**code("print(1)"), "outputs": "1"}]


def test_browser_json_is_compact_and_keeps_non_ascii() -> None:
    message = {"type": "request", "prefix": "é = 1", "above": [code("ü")]}
    text = browser_json(message)
    assert text == '{"type":"request","prefix":"é = 1","above":[{"cell_type":"code","source":"ü"}]}'
    assert json.loads(text) == message
