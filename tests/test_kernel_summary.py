"""The kernel summary (`jupyter_ai_inline/kernel_summary.py`): what it says about each kind
of value, that it never runs a user object's code, its bounds, and a real ipykernel asked
for it as the browser does (silent: no output, no history, no execution count)."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import pytest_asyncio

from jupyter_ai_inline import kernel_summary
from jupyter_ai_inline.kernel_summary import TEXT_CHARS, describe, summarize
from tests.support.kernel import execute, run_cell, summary, summary_code

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "kernel_summary_ts.py"


class Touched(Exception):
    """A user object's own code ran."""


class Hostile:
    """Every hook the summary could run raises: a repr, a property, `__class__`, lookups."""

    def __repr__(self) -> str:
        raise Touched("__repr__")

    __str__ = __repr__

    def __len__(self) -> int:
        raise Touched("__len__")

    def __iter__(self):
        raise Touched("__iter__")

    def __getattr__(self, name: str) -> Any:
        raise Touched(f"__getattr__ {name}")

    @property
    def __class__(self):  # isinstance() would read this
        raise Touched("__class__")

    @property
    def shape(self) -> tuple:
        raise Touched("shape")


class HostileMeta(type):
    def __getattribute__(cls, name: str) -> Any:
        if name.startswith("__") and name not in ("__mro__", "__class__"):
            raise Touched(f"metaclass {name}")
        return super().__getattribute__(name)

    def __repr__(cls) -> str:
        raise Touched("metaclass __repr__")


class HostileFrame(pd.DataFrame):
    @property
    def shape(self) -> tuple:
        raise Touched("DataFrame subclass shape")


class LazyModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        raise Touched(f"module __getattr__ {name}")


HOSTILE = Hostile()


def train(data, epochs, learning_rate=0.1, *rest, seed=HOSTILE, verbose=False, **options):
    return data


def only_positional(a, b=2, /, c=3):
    return a


class Point:
    __module__ = "__main__"  # as a notebook's cell defines it

    def __init__(self, x, y=0.0):
        self.x, self.y = x, y

    def norm(self) -> float:
        return (self.x**2 + self.y**2) ** 0.5


def test_each_kind_of_value_by_what_its_type_knows() -> None:
    sales = pd.DataFrame({"region": ["n", "s"], "units": [3, 4]}).set_index(
        pd.Index(["a", "b"], name="order_id")
    )
    text = str(sales["region"].dtype)  # pandas 3: str, pandas 2: object
    assert describe(sales) == (
        f"DataFrame shape=(2, 2) index='order_id' columns={{'region': {text}, 'units': int64}}"
    )
    assert describe(sales["units"]) == "Series name='units' length=2 dtype=int64"
    assert describe(np.zeros((60, 784), np.uint8)) == "ndarray shape=(60, 784) dtype=uint8"
    assert describe(np.arange(3)) == "ndarray shape=(3,) dtype=int64"
    assert describe(np.float32(2.5)) == "float32 2.5"
    assert describe(np) == "module numpy"
    assert describe(train) == (
        "function(data, epochs, learning_rate=0.1, *rest, seed=..., verbose=False, **options)"
    )
    assert describe(only_positional) == "function(a, b=2, /, c=3)"
    assert describe(lambda row, *, axis=1: row) == "function(row, *, axis=1)"
    assert describe(Point) == "class(x, y=0.0) methods: norm"
    assert describe(Path) == "class pathlib.Path()"
    assert describe({"learning_rate": 0.01, 64: 1}) == "dict len=2 keys='learning_rate', 64"
    assert describe([1, 2, 3]) == "list[int] len=3" and describe((1, "a")) == "tuple len=2"
    assert describe("sales.csv") == "str len=9 'sales.csv'"
    assert describe(3) == "3" and describe(None) == "None" and describe(True) == "True"
    assert describe(10**1000) == "<int of 3322 bits>"
    assert describe(Path(".")) == "pathlib.PosixPath"  # an instance: its type, nothing more


def test_wide_frames_long_values_and_odd_labels_stay_short() -> None:
    wide = pd.DataFrame(np.zeros((2, 30)), columns=[f"c{i}" for i in range(30)])
    text = describe(wide)
    assert "'c19': float64" in text and "'c20'" not in text and "... 10 more" in text
    multi = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]))
    assert "('a', 1): int64" in describe(multi)
    odd = pd.DataFrame([[1]], columns=[Point(1)])
    assert describe(odd) == "DataFrame shape=(1, 1) columns={Point: int64}"
    assert len(describe("x" * 10**7)) < 60
    huge_keys = {f"key_{i}": i for i in range(10_000)}
    assert len(kernel_summary.cut(describe(huge_keys), TEXT_CHARS)) <= TEXT_CHARS


def test_a_user_objects_own_code_never_runs() -> None:
    class Sneaky(metaclass=HostileMeta):
        pass

    namespace = {
        "hostile": Hostile(),
        "frame": HostileFrame({"a": [1]}),
        "lazy": LazyModule("lazy_module"),
        "sneaky_class": Sneaky,
        "sneaky": Sneaky(),
        "items": [Hostile(), Hostile()],
        "keyed": {Hostile(): 1},
        "train": train,  # a hostile default
    }
    found = {v["name"]: v["text"] for v in summarize(namespace)["variables"]}
    assert found["hostile"] == "tests.test_kernel_summary.Hostile"
    assert found["frame"] == "tests.test_kernel_summary.HostileFrame"  # not exact: not read
    assert found["lazy"] == "module lazy_module"
    assert found["sneaky_class"].startswith("class tests.test_kernel_summary.")
    assert found["sneaky_class"].endswith("<locals>.Sneaky()")
    assert found["sneaky"].endswith("<locals>.Sneaky")
    assert found["items"] == "list[Hostile] len=2"
    assert found["keyed"] == "dict len=1 keys=tests.test_kernel_summary.Hostile"
    assert "seed=..." in found["train"]


def test_names_most_recent_first_without_hidden_private_or_ipythons_own() -> None:
    namespace = {"first": 1, "_private": 2, "In": [], "Out": {}, "get_ipython": len,
                 "exit": 0, "hidden_one": 3, "last": 4, 7: "not a name"}  # fmt: skip
    result = summarize(namespace, hidden={"hidden_one"})
    assert result == {
        "variables": [{"name": "last", "text": "4"}, {"name": "first", "text": "1"}],
        "truncated": False,
    }


def test_ten_thousand_variables_stay_within_the_size_and_the_deadline() -> None:
    namespace = {f"frame_{i}": pd.DataFrame({"a": [i]}) for i in range(2_000)}
    namespace |= {f"value_{i}": i for i in range(8_000)}
    result = summarize(namespace, max_chars=4000)
    assert result["truncated"] is True
    lines = [f"# {v['name']}: {v['text']}" for v in result["variables"]]  # as in the prompt
    assert sum(map(len, lines)) <= 4000 and len(lines) > 100
    assert result["variables"][0] == {"name": "value_7999", "text": "7999"}
    assert len(json.dumps(result)) < 12_000
    assert summarize(namespace, deadline_s=0) == {"variables": [], "truncated": True}


def test_the_browsers_copy_of_the_source_is_current() -> None:
    """`src/kernelSummaryCode.ts` is generated from the .py: regenerate it after a change."""
    import subprocess

    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


@pytest_asyncio.fixture
async def kernel(tmp_path: Path) -> AsyncIterator[Any]:
    """A real Python kernel (ipykernel) in `tmp_path`; shut down afterwards."""
    from jupyter_client.manager import start_new_async_kernel

    manager, client = await asyncio.wait_for(
        start_new_async_kernel(kernel_name="python3", cwd=str(tmp_path)), 60
    )
    try:
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_a_real_kernel_answers_silently_with_what_its_cells_made(
    kernel: Any, tmp_path: Path
) -> None:
    pd.DataFrame({"station": ["a"], "temp_c": [21.5]}).to_csv(tmp_path / "weather.csv")
    await run_cell(kernel, "import pandas as pd\nweather = pd.read_csv('weather.csv')")
    await run_cell(kernel, "def scale(x, by=2):\n    return x * by\nimport sys")
    before = await run_cell(
        kernel, "names = set(globals()) | {'names', 'modules'}\nmodules = set(sys.modules)"
    )

    asked = await execute(kernel, summary_code(), timeout=30, silent=True)
    assert set(asked.kinds) <= {"status", "stream"}  # no execute_input, result or display
    found = {v["name"]: v["text"] for v in json.loads(asked.stdout)["variables"]}
    assert found["weather"].startswith("DataFrame shape=(1, 3) columns={'Unnamed: 0': int64, ")
    assert found["weather"].endswith(", 'temp_c': float64}") and "'station': " in found["weather"]
    assert found["scale"] == "function(x, by=2)" and found["pd"] == "module pandas"
    assert list(found)[:2] == ["modules", "names"]  # the most recent first

    after = await execute(
        kernel,
        "print(sorted(set(globals()) - names), sorted(set(sys.modules) - modules))",
        timeout=30,
    )
    count = before["execution_count"] + 1
    assert after.reply["execution_count"] == count  # the summary took no number
    assert after.stdout.strip() == f"['_i{count}'] []"  # nothing new in the user's namespace


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_a_real_kernels_hostile_objects_are_left_alone(kernel: Any) -> None:
    await run_cell(
        kernel,
        "import time\ntouched = []\n"
        "class Slow:\n"
        "    def __repr__(self):\n        touched.append('repr'); time.sleep(30); return 'x'\n"
        "    @property\n"
        "    def shape(self):\n        touched.append('shape'); raise ValueError\n"
        "    def __getattr__(self, name):\n        touched.append(name); raise AttributeError\n"
        "slow = Slow()",
    )
    line = await summary(kernel, timeout=10)
    assert {"name": "slow", "text": "Slow"} in json.loads(line)["variables"]
    checked = await execute(kernel, "print(touched)", timeout=10)
    assert checked.stdout.strip() == "[]"
