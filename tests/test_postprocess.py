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
