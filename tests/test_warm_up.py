"""Warm-ups: a cell gains focus, the model server evaluates its prompt ahead of the first
keystroke. Through our websocket on a real Jupyter server, against a fake llama.cpp server
whose prompt evaluation takes `first_token_delay`."""

import asyncio
from typing import Any

import pytest

from jupyter_ai_inline.server.service import CompletionService
from tests.support.completion import request
from tests.support.fake_backend import FakeBackend
from tests.support.poll import until
from tests.support.ws_client import Client, connect, llamacpp_server_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

CELL: dict[str, Any] = {
    "prefix": "total = ",
    "path": "analysis.ipynb",
    "cell_id": "cell-2",
    "above": [{"cell_type": "code", "source": "import pandas as pd\nsales = pd.read_csv('s.csv')"}],
}


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def warm_up() -> str:
    return "on"


@pytest.fixture
def jp_server_config(backend_port: int, warm_up: str) -> dict:
    return llamacpp_server_config(backend_port, warm_up=warm_up)


def warm(client: Client, number: int, **fields: Any) -> None:
    client.send(type="warm", **request(number, **(CELL | fields)))


async def warmed(client: Client, number: int) -> dict[str, Any]:
    """The `warmed` reply to warm-up `number` (statuses and other replies skipped)."""
    while True:  # bounded: receive() waits 10 s at most
        message = await client.receive()
        if message["type"] == "warmed" and message["reply_to"] == number:
            return message


def warm_ups(backend: FakeBackend) -> list:
    return [g for g in backend.generations if g.body.get("n_predict") == 0]


async def slow_warm_up(client: Client, backend: FakeBackend, delay: float, **fields: Any) -> None:
    """Warm-up 2 with `fields`, taking the server `delay` s, once it reached the server (a
    first warm-up, 1, has the server's mode learned)."""
    warm(client, 1, cell_id="cell-8")
    await warmed(client, 1)
    backend.first_token_delay = delay
    warm(client, 2, **fields)
    await until(lambda: len(warm_ups(backend)) == 2, what="the warm-up reached the server")


async def test_a_warm_up_evaluates_the_prompt_of_the_next_request(
    jp_ws_fetch, backend_port
) -> None:
    async with FakeBackend(port=backend_port, first_token_delay=0.2) as backend:
        client = await connect(jp_ws_fetch)
        warm(client, 1)
        reply = await warmed(client, 1)
        assert reply["skipped"] is None and reply["ms"] >= 200
        client.request(2, **CELL)
        await client.until_done(2, 1)
    (warm_up,) = warm_ups(backend)
    real = backend.generations[-1]
    assert warm_up.body["return_progress"] is True and warm_up.body["cache_prompt"] is True
    # the same prompt: the real request finds it in the server's cache
    assert warm_up.path == real.path == "/infill"
    for field in ("input_prefix", "input_suffix", "input_extra"):
        assert warm_up.body[field] == real.body[field]
    assert "sales = pd.read_csv" in warm_up.body["input_extra"][0]["text"]


async def test_a_request_cancels_the_warm_up_and_never_waits_for_it(
    jp_ws_fetch, backend_port
) -> None:
    async with FakeBackend(port=backend_port, slots=1) as backend:
        client = await connect(jp_ws_fetch)
        await slow_warm_up(client, backend, 3.0, cell_id="cell-9", prefix="y = ")
        backend.first_token_delay = 0.0
        client.request(3, prefix="x = ", path="analysis.ipynb", cell_id="cell-3")
        messages = await client.until_done(3, 1)
    assert {"type": "warmed", "reply_to": 2, "ms": None, "skipped": "superseded"} in messages
    warm_up = warm_ups(backend)[-1]
    assert warm_up.disconnected  # its stream was closed: the slot is free at once
    real = backend.generations[-1]
    assert real.started - warm_up.started < 1.0  # the one slot was not held for 3 s
    assert [m["response"]["insertText"] for m in messages if m.get("done")] == ["abc"]


async def test_typing_on_in_the_warmed_cell_waits_for_its_warm_up(
    jp_ws_fetch, backend_port
) -> None:
    """The warm-up evaluates the suggestion's own prompt: cancelled, its work would start
    again from nothing, on another slot of the server."""
    async with FakeBackend(port=backend_port) as backend:
        client = await connect(jp_ws_fetch)
        await slow_warm_up(client, backend, 1.0, prefix="to")
        client.request(3, **(CELL | {"prefix": "total"}))
        messages = await client.until_done(3, 1)
    warm_up, real = warm_ups(backend)[-1], backend.generations[-1]
    assert not warm_up.disconnected and real.started >= warm_up.ended_at
    (reply,) = [m for m in messages if m["type"] == "warmed" and m["reply_to"] == 2]
    assert reply["skipped"] is None and reply["ms"] >= 1000


async def test_moving_on_to_the_next_cell_keeps_the_warm_up_of_the_last(
    jp_ws_fetch, backend_port
) -> None:
    """After Shift+Enter the next cell's prompt starts with the last cell's: that warm-up is
    finished (and its cache used), not cancelled."""
    async with FakeBackend(port=backend_port) as backend:
        client = await connect(jp_ws_fetch)
        await slow_warm_up(client, backend, 1.0, prefix="total = sales.sum()")
        above = [{"cell_type": "code", "source": "total = sales.sum()"}, *CELL["above"]]
        warm(client, 3, cell_id="cell-3", prefix="", above=above)
        replies = [await warmed(client, 2), await warmed(client, 3)]
    previous, following = warm_ups(backend)[-2:]
    assert not previous.disconnected and following.started >= previous.ended_at
    assert [r["skipped"] for r in replies] == ["superseded", None]  # the tab's reply to 2


async def test_warm_ups_are_one_at_a_time_and_a_burst_runs_only_the_last(
    jp_ws_fetch, backend_port
) -> None:
    async with FakeBackend(port=backend_port, first_token_delay=0.3) as backend:
        client = await connect(jp_ws_fetch)
        for number in range(1, 21):  # the user runs through 20 cells
            warm(client, number, cell_id=f"cell-{number}", prefix=f"x{number} = ")
        replies = [await warmed(client, number) for number in range(1, 21)]
    assert [r["skipped"] for r in replies[:-1]] == ["superseded"] * 19
    assert replies[-1]["skipped"] is None
    runs = warm_ups(backend)
    assert runs[-1].body["input_prefix"] == "x20 = " and not runs[-1].disconnected
    intervals = sorted((g.started, g.ended_at) for g in runs)
    pairs = zip(intervals[:-1], intervals[1:], strict=True)
    overlapping = [a for a, b in pairs if b[0] < a[1] - 0.01]
    assert overlapping == []  # never two warm-ups at the model server at once


async def test_no_warm_up_while_suggestions_are_generated(jp_ws_fetch, backend_port) -> None:
    async with FakeBackend(port=backend_port, first_token_delay=1.0) as backend:
        client = await connect(jp_ws_fetch)
        client.request(1, prefix="x = ", path="analysis.ipynb", cell_id="cell-1")
        await until(lambda: backend.generations, what="the suggestion started")
        warm(client, 2)
        assert (await warmed(client, 2))["skipped"] == "busy"
        await client.until_done(1, 1)
    assert warm_ups(backend) == []


async def test_the_same_prompt_is_warmed_once(jp_ws_fetch, backend_port) -> None:
    async with FakeBackend(port=backend_port) as backend:
        client = await connect(jp_ws_fetch)
        warm(client, 1)
        assert (await warmed(client, 1))["skipped"] is None
        warm(client, 2)  # focus left and came back, nothing changed
        assert (await warmed(client, 2))["skipped"] == "unchanged"
    assert len(warm_ups(backend)) == 1


async def test_a_failing_model_server_makes_a_quiet_warm_up(jp_ws_fetch, backend_port) -> None:
    async with FakeBackend(port=backend_port, fail_status=500):
        client = await connect(jp_ws_fetch)
        warm(client, 1)
        assert (await warmed(client, 1)) == {
            "type": "warmed", "reply_to": 1, "ms": None, "skipped": "error"
        }  # fmt: skip


@pytest.mark.parametrize("warm_up", ["auto", "off"])
async def test_only_the_managed_model_is_warmed_by_default(
    jp_ws_fetch, backend_port, warm_up
) -> None:
    """`auto`: another llama.cpp server may have a large batch, which a warm-up would hold
    until its end; `off`: never."""
    async with FakeBackend(port=backend_port) as backend:
        client = await connect(jp_ws_fetch)
        warm(client, 1)
        assert (await warmed(client, 1))["skipped"] == "unsupported"
    assert warm_ups(backend) == []


async def test_stopping_the_server_ends_a_running_warm_up(
    jp_serverapp, jp_ws_fetch, backend_port
) -> None:
    async with FakeBackend(port=backend_port) as backend:
        client = await connect(jp_ws_fetch)
        await slow_warm_up(client, backend, delay=30, prefix="later = ")
        client.close()  # the tab goes: the warm-up stays the server's, as it may serve others
        service = CompletionService.of(jp_serverapp.web_app.settings)
        assert service is not None
        await asyncio.wait_for(service.stop(), 5)
        # its stream was closed (without the fix it runs on for its 30 s)
        await until(lambda: warm_ups(backend)[-1].disconnected, timeout=2, what="closed")
