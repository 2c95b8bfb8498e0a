"""Our own completions websocket, end to end on a real Jupyter server."""

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support.fake_backend import FakeBackend
from tests.support.ws_client import ENDPOINT, connect

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(backend_port: int, tmp_path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ai_inline": True}},
        "JupyterAIInline": {
            "base_url": f"http://127.0.0.1:{backend_port}",
            "model": "server-default",
            "max_message_bytes": 10_000,
            "max_requests_in_flight": 2,
        },
    }


async def test_streams_suggestions_with_the_browser_settings(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, tokens=["4", "2"]) as backend:
        client.send(type="configure", settings={"model": "from-browser", "suggestions": 2})
        status = await client.receive()
        assert status == {
            "type": "status", "model": "inline-ollama:from-browser", "backend": "ollama",
            "base_url": backend.url, "source": "settings", "suggestions": 2,
            "mode": None, "local": None, "can_choose_server": True, "can_warm": False,
            "max_message_bytes": 10_000,
            "context": None,
            "context_budget": {
                "above_chars": 6000, "below_chars": 2000, "max_cells": 50,
                "include_outputs": False, "output_chars": 400, "variables_chars": 1500,
            },
        }  # fmt: skip
        client.request(1)
        messages = await client.until_done(1, 2)
    reply, chunks = messages[0], [m for m in messages[1:] if m["type"] == "stream"]
    assert [m["context"] for m in messages if m["type"] == "status"] == ["none"]
    assert reply["type"] == "reply" and len(reply["list"]["items"]) == 2
    tokens = {item["token"] for item in reply["list"]["items"]}
    assert {chunk["response"]["token"] for chunk in chunks} == tokens
    finals = sorted(c["response"]["insertText"] for c in chunks if c["done"])
    assert finals == ["", "42"]
    assert {r.body["model"] for r in backend.requests} == {"from-browser"}


async def test_status_says_which_mode_a_llamacpp_server_uses(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as backend:
        backend.llamacpp_fim = False
        client.send(type="configure", settings={"backend": "llamacpp"})
        first, probed = await client.receive(), await client.receive()
        assert first["backend"] == "llamacpp" and first["mode"] is None  # not known yet
        assert probed["mode"] == "completion" and probed["local"] is None
        assert [r.path for r in backend.requests] == ["/infill"]  # one probe, answered 501


async def test_mode_arrives_when_settings_change_during_the_probe(
    jp_ws_fetch, backend_port
) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as backend:
        backend.llamacpp_fim = False
        client.send(type="configure", settings={"backend": "llamacpp"})
        client.send(type="configure", settings={"backend": "llamacpp", "maxTokens": 5})
        statuses = [await client.receive()]
        while statuses[-1]["mode"] is None:  # bounded: receive() waits 10 s at most
            statuses.append(await client.receive())
        assert statuses[-1]["mode"] == "completion"


async def test_server_defaults_when_the_browser_sets_nothing(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as backend:
        client.request(1)
        await client.until_done(1, 1)
    assert backend.requests[0].body["model"] == "server-default"


async def test_cancel_closes_the_backend_stream(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, tokens=["x"] * 200, token_delay=0.02) as backend:
        client.request(1)
        await backend.wait_until(lambda: backend.tokens_generated >= 3)
        client.send(type="cancel", number=1)
        messages = await client.until_done(1, 1)
        await backend.wait_until(lambda: backend.disconnects == 1, timeout=2)
    assert messages[-1]["done"] and messages[-1]["error"] is None
    assert backend.tokens_generated < 50


async def test_a_newer_request_for_the_cell_supersedes(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(
        port=backend_port, tokens=["x"] * 30, token_delay=0.02, slots=1
    ) as backend:
        client.request(1, path="a.ipynb", cell_id="c1")
        await backend.wait_until(lambda: backend.tokens_generated >= 2)
        client.request(2, path="a.ipynb", cell_id="c1", prefix="y = ")
        messages = await client.until_done(2, 1)
    assert [m.get("done") for m in messages if m.get("reply_to") == 1].count(True) == 1
    assert backend.generations[0].disconnected
    assert messages[-1]["response"]["insertText"] == "x" * 30


async def test_backend_errors_are_readable(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, known_models={"other"}) as backend:
        client.request(1)
        messages = await client.until_done(1, 1)
    error = messages[-1]["error"]
    assert error["type"] == "ModelNotFound" and "ollama pull server-default" in error["title"]
    assert backend.requests


async def test_bad_messages_get_errors_and_the_connection_stays(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    client.socket.write_message("not json")
    assert (await client.receive())["error"]["type"] == "BadMessage"
    client.send(type="request", number="one")
    error = (await client.receive())["error"]
    assert error["type"] == "BadMessage" and "number" in error["title"]
    client.request(5, prefix="x" * 20_000)
    assert (await client.receive())["error"]["type"] == "MessageTooLarge"
    async with FakeBackend(port=backend_port, tokens=["ok"]):
        client.request(6)
        assert (await client.until_done(6, 1))[-1]["response"]["insertText"] == "ok"


async def test_requests_in_flight_are_bounded(jp_ws_fetch, backend_port) -> None:
    client = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, tokens=["x"] * 100, token_delay=0.02):
        for number, cell in enumerate(["a", "b", "c"], start=1):
            client.request(number, cell_id=cell)
        refused = None
        while refused is None:
            message = await client.receive()
            if message["type"] == "error":
                refused = message
        assert refused["reply_to"] == 3 and refused["error"]["type"] == "TooManyRequests"


async def test_unauthenticated_connections_are_refused(
    http_server_client, jp_http_port, jp_base_url
) -> None:
    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}{'/'.join(ENDPOINT)}"
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(HTTPRequest(url))
    assert refused.value.code == 403


async def test_without_a_live_document_the_cells_the_browser_sent_are_the_context(
    jp_ws_fetch, backend_port
) -> None:
    client = await connect(jp_ws_fetch)
    above = [
        {"cell_type": "code", "source": "def revenue_by_region(frame):\n    ..."},
        {"cell_type": "markdown", "source": "Load the sales"},
        {"cell_type": "code", "source": "import pandas as pd", "outputs": "ignored"},
    ]  # nearest first
    below = [{"cell_type": "code", "source": "plot_totals(result)"}]
    async with FakeBackend(port=backend_port) as backend:
        client.request(
            1, path="a.ipynb", cell_id="c", prefix="result = rev", above=above, below=below
        )
        messages = await client.until_done(1, 1)
        client.request(2, path="a.ipynb", cell_id="c", above=[{"cell_type": "x"}])
        error = (await client.receive())["error"]
        client.request(3, above=above * 40)  # 120 cells: the 50 nearest are used
        await client.until_done(3, 1)
    body = backend.requests[0].body
    assert body["prompt"] == (
        "import pandas as pd\n\n# Load the sales\n\n"
        "def revenue_by_region(frame):\n    ...\n\nresult = rev"
    )
    assert body["suffix"] == "\n\nplot_totals(result)"
    assert [m["context"] for m in messages if m["type"] == "status"] == ["browser"]
    assert error["type"] == "BadMessage" and "above" in error["title"]
    assert backend.requests[1].body["prompt"].count("import pandas as pd") == 16  # 50 of 120
