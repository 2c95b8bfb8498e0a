"""The budget rule (which other cells go in, and how much of each) against the cases of
tests/budget_cases.json; the browser's mirror of it is tested against the same cases
(src/__tests__/neighbours.spec.ts), so the two cannot drift apart."""

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_ai_inline.engine import CellText, ContextBudget
from jupyter_ai_inline.engine.prompt import pick_above, pick_below

CASES_FILE = Path(__file__).parent / "budget_cases.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())["cases"]


def cell(message: dict[str, str]) -> CellText:
    """A cell of a case (a request's `ICellMessage`) as the engine takes it."""
    outputs = message.get("outputs", "")
    return CellText(message["cell_type"], message["source"], outputs)  # type: ignore[arg-type]


def message(cell: CellText) -> dict[str, str]:
    """A picked cell as a request carries it."""
    outputs = {"outputs": cell.outputs} if cell.outputs else {}
    return {"cell_type": cell.kind, "source": cell.source, **outputs}


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_engine_picks_the_cells_of_each_case(case: dict[str, Any]) -> None:
    budget = ContextBudget(**case["budget"])
    above = pick_above([cell(m) for m in case["above"]], budget)
    below = pick_below((cell(m) for m in case["below"]), budget)
    assert [message(c) for c in above] == case["expected_above"]
    assert [message(c) for c in below] == case["expected_below"]


def test_the_cases_hold_only_what_both_sides_read_alike() -> None:
    """ASCII text (Python counts code points, JavaScript UTF-16 units), and outputs only
    where the browser sends them (a code cell's, trimmed, within the budget's
    `output_chars`, when it includes outputs), so the browser's cells are the cases' cells."""
    assert len(CASES) >= 10
    for case in CASES:
        budget = ContextBudget(**case["budget"])
        assert set(case["budget"]) <= set(ContextBudget.model_fields)
        cells = case["above"] + case["below"] + case["expected_above"] + case["expected_below"]
        for m in cells:
            assert set(m) <= {"cell_type", "source", "outputs"}
            assert m["source"].isascii(), case["name"]
            if "outputs" in m:
                assert budget.include_outputs and m["cell_type"] == "code", case["name"]
                assert m["outputs"] == m["outputs"].strip() != "", case["name"]
                assert len(m["outputs"]) <= budget.output_chars, case["name"]
