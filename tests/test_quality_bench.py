"""The quality benchmark's scores and its copy of the browser's choice of cells."""

import json
from collections import Counter

import pytest

from bench.harness import Task, load_tasks, percentile
from bench.heldout import CUT_AFTER, OUT, qualifies
from bench.quality import (
    DEFAULT_BUDGET,
    Notebook,
    Outcome,
    browser_json,
    common_prefix,
    edit_similarity,
    empty_line_candidates,
    empty_line_tasks,
    exact_match,
    first_line,
    first_line_exact,
    levenshtein,
    neighbours,
    record,
    statement_lines,
    takeable_share,
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


# -- the empty-line tasks ----------------------------------------------------------------------

CELL = """\
x = load()
# fit the model
model = fit(x,
            y)

for i in range(3):
    print(i)

    # the square
    print(i * i)
total = sum(x)
%matplotlib inline

if x:
    pass
else:
    stop()"""


def test_the_cutter_takes_the_statement_or_block_after_a_comment_or_a_blank_line() -> None:
    notebook = Notebook(
        cells=[code("import os\n\nos.getcwd()"), markdown("# Title\n\nText"), code(CELL)],
        outputs=[None, None, None],
    )
    tasks = empty_line_candidates("nb.ipynb", notebook)
    # the first code cell and the markdown cell give none; in the cell: after the comment a
    # statement over two lines; after the blank line a block up to where the indentation
    # returns; inside it, after a comment, at its indentation; not `total` (after code), not
    # the magic (after code, and no statement), the `if` block without its `else:` clause
    assert [(t.id, t.target) for t in tasks] == [
        ("nb:2:2", "model = fit(x,\n            y)"),
        ("nb:2:5", "for i in range(3):\n    print(i)\n\n    # the square\n    print(i * i)"),
        ("nb:2:9", "print(i * i)"),
        ("nb:2:13", "if x:\n    pass"),
    ]
    for task in tasks:  # the cell split at the cursor, the cursor on an otherwise empty line
        assert task.prefix + task.target + task.suffix == CELL
        assert task.notebook == "nb.ipynb" and task.cell_index == 2
        assert not task.prefix.rsplit("\n", 1)[-1].strip()
        assert task.suffix == "" or task.suffix.startswith("\n")
    assert tasks[2].prefix.endswith("    # the square\n    ")  # after the line's indentation
    assert tasks[0].suffix == "\n\nfor i in range(3):" + CELL.split("range(3):", 1)[1]


def test_the_cutter_skips_cell_magics_and_what_does_not_parse() -> None:
    magic = code("a = 1\n\n%%time\nb = 2")
    first = code("print(1)")
    prose = code('s = """\n\nnot python here\n"""\n\n!ls -l\n# c\nelse:\n    x = 1')
    notebook = Notebook(cells=[first, code("%%time\n\nb = 2"), prose, magic], outputs=[None] * 4)
    assert [t.id for t in empty_line_candidates("n", notebook)] == []
    assert statement_lines(["a = f(", "1)", "b"], 0) == 2
    assert statement_lines(["@dec", "def f():", "    return 1", "", "g()"], 0) == 3
    assert statement_lines(["a = 1; b = 2"], 0) is None


def test_a_long_block_is_cut_to_whole_lines() -> None:
    body = "\n".join(f"    value_{i} = {i}" for i in range(20))
    notebook = Notebook(cells=[code("x"), code(f"# loop\nfor _ in x:\n{body}")], outputs=[None] * 2)
    (task,) = empty_line_candidates("n", notebook)
    lines = task.target.split("\n")
    assert len(lines) == 12 and lines[0] == "for _ in x:" and lines[-1] == "    value_10 = 10"
    assert task.suffix == "\n" + "\n".join(f"    value_{i} = {i}" for i in range(11, 20))


def test_the_sample_is_stable_and_bounded_per_notebook() -> None:
    cells = [code("x")] + [code(f"# step {i}\nstep_{i}()\n\nafter_{i}()") for i in range(5)]
    notebooks = {name: Notebook(cells=cells, outputs=[None] * 6) for name in ("a", "b")}
    tasks = empty_line_tasks(notebooks)
    assert len(tasks) == 8  # 10 qualifying lines in each, 4 of each taken
    assert sum(t.notebook == "a" for t in tasks) == 4
    assert tasks == empty_line_tasks(notebooks)  # the same set, in the same order


def test_first_line_exact_compares_the_first_lines() -> None:
    target = "for i in x:\n    f(i)"
    assert first_line_exact("for i in x:  \n    g(i)", target)
    assert first_line_exact("for i in x:", target)
    assert not first_line_exact("for j in x:\n    f(i)", target)
    assert not first_line_exact("", target)


def test_takeable_share_is_the_common_start_over_the_target() -> None:
    assert common_prefix("abcd", "abxy") == 2
    assert common_prefix("", "abc") == 0
    target = "for i in x:\n    f(i)"  # 20 characters
    assert takeable_share(target + "\n", target) == 1.0
    assert takeable_share(target + "\nmore()", target) == 1.0  # all of it, then delete more
    assert takeable_share("for i in x:\n    g(i)", target) == pytest.approx(16 / 20)
    assert takeable_share("for i in x:", target) == pytest.approx(11 / 20)
    assert takeable_share("print(x)", target) == 0.0
    assert takeable_share("", "") == 1.0


def test_an_empty_line_record_scores_the_whole_target() -> None:
    task = Task("nb:1:2", "nb.ipynb", 1, "# loop\n", "", "for i in x:\n    f(i)")
    scored = record(task, "cells", Outcome(text="for i in x:\n    g(i)"), 7, "empty-line")
    assert scored.exact and scored.multi_line and scored.after == "comment"
    assert scored.edit_similarity == pytest.approx(1 - 1 / 20)
    assert scored.takeable == pytest.approx(16 / 20)
    line_task = Task("nb:1:2", "nb.ipynb", 1, "x = f(", ")", "a, b")
    scored = record(line_task, "cells", Outcome(text="a, c\nmore"), 7, "notebooks")
    assert not scored.exact and scored.takeable is None and scored.after == ""
    assert scored.edit_similarity == pytest.approx(1 - 1 / 4)  # the first line only


# -- the held-out notebook tasks (bench/heldout) -----------------------------------------------


def test_the_held_out_tasks_follow_the_cutting_rules() -> None:
    tasks, notebooks = load_tasks(OUT)
    assert len(tasks) == 120 and len(notebooks) == 24
    assert max(Counter(t.notebook for t in tasks).values()) <= 6
    assert len({t.notebook for t in tasks[:6]}) == 6  # --quick takes several notebooks
    for task in tasks:
        cells = notebooks[task.notebook].cells
        assert len(notebooks[task.notebook].outputs) == len(cells)
        source = cells[task.cell_index]["source"]
        assert cells[task.cell_index]["cell_type"] == "code"
        assert task.prefix + task.target + task.suffix == source
        first_code = next(i for i, cell in enumerate(cells) if cell["cell_type"] == "code")
        assert task.cell_index != first_code and not source.startswith("%%")
        assert task.suffix == "" or task.suffix.startswith("\n")
        head = task.prefix.rsplit("\n", 1)[-1]
        assert "\n" not in task.target and task.target.strip()
        assert qualifies(head + task.target)
        assert len(head.lstrip()) >= CUT_AFTER * len((head + task.target).strip())
