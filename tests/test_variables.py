"""The kernel's variables in the prompt: a comment block of its own budget, right before the
current cell, the names the cell uses first."""

import pytest

from jupyter_ai_inline.engine import CellText, CompletionRequest, ContextBudget, KernelVariable
from jupyter_ai_inline.engine.backends.llamacpp import LlamaCppBackend
from jupyter_ai_inline.engine.fim import TEMPLATES
from jupyter_ai_inline.engine.models import BackendSettings, Sampling
from jupyter_ai_inline.engine.prompt import build_prompt, take_variables
from tests.support.fake_backend import FakeBackend
from tests.support.ws_client import connect, llamacpp_server_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

SALES = {"name": "sales", "text": "DataFrame (1000, 4): region object, units int64"}
VARIABLES = (
    KernelVariable("model", "LinearRegression"),
    KernelVariable(**SALES),
    KernelVariable("np", "module numpy"),
)
HEADING = "# Variables in the running kernel:"


def test_the_names_the_cell_uses_get_in_first_and_keep_the_kernels_order() -> None:
    everything = take_variables(VARIABLES, "totals = sales.groupby(", "python", 500)
    assert everything.splitlines() == [
        HEADING,
        "# model: LinearRegression",
        "# sales: DataFrame (1000, 4): region object, units int64",
        "# np: module numpy",
    ]
    assert take_variables(VARIABLES, "x = 1", "python", 500) == everything  # same block
    room_for_one = (
        len(HEADING) + 1 + len("# sales: DataFrame (1000, 4): region object, units int64")
    )
    assert take_variables(VARIABLES, "sales.", "python", room_for_one).splitlines()[1:] == [
        "# sales: DataFrame (1000, 4): region object, units int64"
    ]
    assert take_variables(VARIABLES, "", "python", room_for_one).splitlines()[1:] == [
        "# model: LinearRegression", "# np: module numpy"
    ]  # fmt: skip


def test_the_block_keeps_its_budget_and_never_cuts_a_line() -> None:
    many = [KernelVariable(f"x{i}", "int = 1") for i in range(10_000)]
    block = take_variables(many, "print(x9999)", "python", 300)
    assert len(block) <= 300
    lines = block.splitlines()
    assert lines[0] == HEADING and "# x9999: int = 1" in lines and len(lines) > 10
    assert all(line.endswith("int = 1") for line in lines[1:])
    assert take_variables(VARIABLES, "", "python", len(HEADING) + 5) == ""  # no line fits
    assert take_variables(VARIABLES, "", "python", 0) == ""
    odd = [KernelVariable("s", "str\nimport os"), KernelVariable("n", "int = 3")]
    assert take_variables(odd, "", "python", 500) == f"{HEADING}\n# n: int = 3"


def test_the_block_sits_after_the_cells_above_and_before_the_cell() -> None:
    request = CompletionRequest(
        prefix="sales.gr", suffix="", language="python", variables=VARIABLES, path="a/b.ipynb"
    )
    above = [CellText(kind="code", source="import pandas as pd")]
    prompt = build_prompt(request, ContextBudget(), above)
    assert prompt.full_prefix.startswith("import pandas as pd\n\n" + HEADING)
    assert prompt.full_prefix.endswith("# np: module numpy\n\nsales.gr")
    assert prompt.cell_prefix.startswith(HEADING) and prompt.prefix == "sales.gr"
    infill = LlamaCppBackend(BackendSettings(base_url="http://x", model="m")).infill_payload(
        prompt, Sampling(max_tokens=8)
    )
    assert infill["input_prefix"] == prompt.cell_prefix
    assert [extra["text"] for extra in infill["input_extra"]] == ["import pandas as pd"]
    qwen = TEMPLATES["qwen"].render(prompt)
    assert f"<|fim_prefix|>{prompt.cell_prefix}<|fim_suffix|>" in qwen
    none = build_prompt(request, ContextBudget(variables_chars=0), above)
    assert none.variables == "" and HEADING not in none.full_prefix


def infilled(backend: FakeBackend) -> str:
    """The current cell's part of the last `/infill` prompt the model server received."""
    return [r for r in backend.requests if r.path == "/infill"][-1].body["input_prefix"]


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(request, backend_port: int) -> dict:
    return llamacpp_server_config(backend_port, **getattr(request, "param", {}))


async def test_variables_from_the_browser_reach_the_model_server(jp_ws_fetch, backend_port):
    async with FakeBackend(port=backend_port, tokens=["roupby("]) as backend:
        client = await connect(jp_ws_fetch)
        variables = [SALES, {"name": "np", "text": "module numpy"}]
        client.request(1, prefix="sales.g", variables=variables, path="a.ipynb", cell_id="c")
        messages = await client.until_done(1, 1)
        assert all(m.get("error") is None for m in messages)
        sent = infilled(backend)
        assert sent == (
            f"{HEADING}\n# sales: DataFrame (1000, 4): region object, units int64\n"
            "# np: module numpy\n\nsales.g"
        )

        # too long an entry: a readable error reply to that request, and the socket stays
        client.request(2, variables=[{"name": "big", "text": "x" * 5000}])
        error = await client.receive()
        assert error["type"] == "error" and error["error"]["type"] == "BadMessage"
        assert "variables" in error["error"]["title"]
        client.request(3, prefix="n", variables=[SALES])
        assert (await client.until_done(3, 1))[-1]["error"] is None


@pytest.mark.parametrize("jp_server_config", [{"context_variables_chars": 0}], indirect=True)
async def test_the_administrator_can_turn_variables_off(jp_ws_fetch, backend_port) -> None:
    async with FakeBackend(port=backend_port, tokens=["x"]) as backend:
        client = await connect(jp_ws_fetch)
        client.request(1, prefix="sales.", variables=[SALES], path="a.ipynb", cell_id="c")
        statuses = [m for m in await client.until_done(1, 1) if m["type"] == "status"]
        assert infilled(backend) == "sales."
        assert all(s["context_budget"]["variables_chars"] == 0 for s in statuses)
