"""What the user sees from raw model output."""

import pytest

from jupyter_ai_inline.engine.postprocess import process


@pytest.mark.parametrize(
    ("raw", "prefix", "suffix", "shown"),
    [
        ("```python\nimport os\n```\nExplanation", "", "", "import os"),
        ("```\nx = 1", "", "", "x = 1"),
        ("import numpy as np", "import nu", "", "mpy as np"),
        ("df = pd.read_csv(path)\n", "df = pd.read_csv(path)\n", "", ""),
        ("x)", "print(", ")", "x"),
        ("g()", "f(", ")", "g()"),
        ("a, b)\nprint(a)", "zip(", ")\n", "a, b"),
        ("return x\n\nprint(f(1))\n", "def f(x):\n    ", "", "return x"),
        ("mpy as np\nimport pandas as pd\n", "import nu", "\nimport pandas as pd", "mpy as np"),
        ("   \n\t", "x = ", "", ""),
        ("π = 3.14159  # ünïcode ✓", "", "", "π = 3.14159  # ünïcode ✓"),
    ],
)
def test_final_text(raw: str, prefix: str, suffix: str, shown: str) -> None:
    assert process(raw, prefix, suffix, final=True).text == shown


def test_waits_while_output_may_still_be_an_echo_or_a_fence() -> None:
    assert process("impo", "import nu", "").text == ""
    assert process("``", "", "").text == ""
    assert process("```py", "", "").text == ""


def test_marks_complete_when_more_output_cannot_change_the_text() -> None:
    assert process("x = 1\ny = 2", "", "print(z)").complete  # single-line context
    assert process("```\nx\n```", "", "").complete
    assert process("return 1\nprint(2)", "def f():\n    ", "").complete
    assert not process("x = 1\ny", "", "").complete


@pytest.mark.parametrize(
    ("raw", "prefix", "shown"),
    [
        # where a block starts: on an empty line after a comment or an opener, to its end
        ("total = df.sum()\ntotal\n", "# total revenue by region\n", "total = df.sum()\ntotal"),
        ("load()\nclean()", "# steps:\n", "load()\nclean()"),
        ("return 1\n    x\nprint(f())", "def f():\n    ", "return 1\n    x"),
        ("    return 1\nprint(f())", "def f():\n", "    return 1"),  # not yet indented
        ("import os\nimport sys", "", "import os\nimport sys"),  # the top of the cell
        # at the end of such a line, a suggestion that starts on the next line
        ("\ntotal = df.sum()\ntotal", "# total revenue by region", "\ntotal = df.sum()\ntotal"),
        ("\n    return 1\nprint(f())", "def f():", "\n    return 1"),
        # one line elsewhere: after text on the cursor's line, after a line of code
        ("turn 42\nprint(1)", "def answer():\n    re", "turn 42"),
        ("sum()\n# then plot\ntotal.plot()", "# total\ntotal = df.", "sum()"),
        ("y = 2\nz = 3", "x = 1\n", "y = 2"),
        ("\ny = 2\nz = 3", "x = 1", "\ny = 2"),
        ("\n\ny = 2\nz = 3", "x = 1\n", "\n\ny = 2"),
    ],
)
def test_multi_line_where_a_block_starts_one_line_elsewhere(
    raw: str, prefix: str, shown: str
) -> None:
    assert process(raw, prefix, "", final=True).text == shown


def test_one_line_is_complete_once_its_line_ends() -> None:
    assert not process("y = 2", "x = 1\n", "").complete  # the line may still grow
    assert process("y = 2\n", "x = 1\n", "").complete
    assert not process("y = 2\nz", "# two lines\n", "").complete


@pytest.mark.parametrize(
    ("raw", "prefix", "shown"),
    [
        # a small model loops on the comment it was given, or on its own lines
        ("x = load()\n# load the data\nx = load()", "# load the data\n", "x = load()"),
        ("# load the data\nx = load()", "import x\n# load the data\n", ""),
        ("# a\nx = 1\n# a\nx = 1", "", "# a\nx = 1"),
        ("df.head()\ndf.head()\ndf.head()", "# look at it\n", "df.head()"),
        # repeated code that is not a loop stays
        (
            "plt.plot(a)\nplt.show()\nplt.plot(b)\nplt.show()",
            "# two plots\n",
            "plt.plot(a)\nplt.show()\nplt.plot(b)\nplt.show()",
        ),
        (
            "x = 1\n# old comment",
            "# old comment\ny = 0\nz = 0\nw = 0\n# set x\n",
            "x = 1\n# old comment",
        ),
    ],
)
def test_a_block_stops_where_the_suggestion_starts_to_loop(
    raw: str, prefix: str, shown: str
) -> None:
    assert process(raw, prefix, "", final=True).text == shown


def test_a_repeated_line_is_cut_only_once_it_is_whole() -> None:
    assert process("x = load()\n# load the da", "# load the data\n", "").text == (
        "x = load()\n# load the da"
    )
