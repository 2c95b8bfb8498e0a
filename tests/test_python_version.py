"""The Pythons that pyproject admits have what the engine uses (issue 19, item 3)."""

import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).parents[1]
ADDED_IN_3_11 = {"Task.cancelling()": ".cancelling()", "asyncio.timeout()": "asyncio.timeout("}
"""What the engine uses that Python 3.11 added, and how its source spells it."""


def test_every_python_that_pyproject_admits_has_what_the_engine_uses() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    admitted = SpecifierSet(project["requires-python"])
    engine = "".join(path.read_text() for path in (ROOT / "jupyter_ai_inline").rglob("*.py"))
    used = [name for name, spelling in ADDED_IN_3_11.items() if spelling in engine]
    assert used, "the engine no longer needs 3.11: this test checks nothing"
    assert not admitted.contains("3.10.14"), f"3.10 lacks {', '.join(used)}"
    assert admitted.contains("3.11.0")  # what CI runs
    assert not [dep for dep in project["dependencies"] if "async-timeout" in dep]  # 3.10's shim
    assert "Programming Language :: Python :: 3.10" not in project["classifiers"]
