"""End to end through Jupyter AI: its websocket, our provider, live collaborative notebooks."""

import asyncio
import functools
import json

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Provider
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_ai_inline.server.service import CompletionService
from tests.support.completion import request
from tests.support.fake_backend import FakeBackend
from tests.support.poll import until
from tests.support.ws_client import ENDPOINT, Client, connect

pytest_plugins = ["pytest_jupyter.jupyter_server"]

NOTEBOOK = "sales.ipynb"
TOKENS = ["sales", ".groupby", "(", "'region')"]


@pytest.fixture(autouse=True)
def dask_without_dashboard(monkeypatch) -> None:
    """Jupyter AI 2 turns Dask's dashboard off with a setting that crashes current
    dask.distributed; start its (unused here) Dask client without the dashboard instead."""
    from dask.distributed import Client
    from jupyter_ai.extension import AiExtension

    async def dask_client(self):
        return Client(processes=False, asynchronous=True, dashboard_address=None)

    monkeypatch.setattr(AiExtension, "_get_dask_client", dask_client)


@pytest.fixture(autouse=True)
def jupyter_ai_files_in_tmp(monkeypatch, tmp_path) -> None:
    """Jupyter AI computes its index folder from the real user's data dir at import."""
    from jupyter_ai.chat_handlers import learn

    monkeypatch.setattr(learn, "INDEX_SAVE_DIR", str(tmp_path / "jupyter_ai" / "indices"))


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(backend_port: int, tmp_path) -> dict:
    model = "inline-ollama:coder"
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "jupyter_ai": True,
                "jupyter_ai_inline": True,
                "jupyter_server_ydoc": True,
                "jupyter_server_fileid": True,
            },
        },
        "AiExtension": {
            "default_completions_model": model,
            "model_parameters": {
                model: {"base_url": f"http://127.0.0.1:{backend_port}", "suggestions": 2}
            },
        },
        # Jupyter AI's settings file, also from the real user's data dir by default
        "ConfigManager": {
            "config_path": str(tmp_path / "jupyter_ai" / "config.json"),
            "schema_path": str(tmp_path / "jupyter_ai" / "config_schema.json"),
        },
        "YDocExtension": {"document_save_delay": 3600},  # keep edits unsaved
        "SQLiteYStore": {"db_path": str(tmp_path / "ystore.db")},
    }


@pytest.fixture
def notebook_file(jp_root_dir) -> None:
    cells = [
        nbformat.v4.new_markdown_cell("Load the sales data", id="intro"),
        nbformat.v4.new_code_cell("import pandas as pd", id="load"),
        nbformat.v4.new_code_cell("sales.", id="current"),
        nbformat.v4.new_code_cell("plot(totals)", id="later"),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), jp_root_dir / NOTEBOOK)


completion_request = functools.partial(
    request, prefix="sales.", stream=True, path=NOTEBOOK, cell_id="current"
)


async def jupyter_ai_tab(jp_ws_fetch) -> Client:
    """A tab's websocket to Jupyter AI's inline completions handler (full texts, no status)."""
    return Client(await jp_ws_fetch("api", "ai", "completion", "inline"))


async def test_streams_through_jupyter_ai_websocket(
    jp_ws_fetch, backend_port, notebook_file
) -> None:
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        tab = await jupyter_ai_tab(jp_ws_fetch)
        tab.send(**completion_request(1))
        replies = await tab.until_done(None, 2)
        tab.close()

        first, chunks = replies[0], replies[1:]
        tokens = [item["token"] for item in first["list"]["items"]]
        assert first["reply_to"] == 1 and len(set(tokens)) == 2
        assert all(
            item["isIncomplete"] and item["insertText"] == "" for item in first["list"]["items"]
        )
        assert {chunk["response"]["token"] for chunk in chunks} == set(tokens)
        finals = sorted(chunk["response"]["insertText"] for chunk in chunks if chunk["done"])
        # the second ends empty if the first ended before it (tests/test_providers.py)
        assert finals[-1] == "groupby('region')" and set(finals) <= {"", "groupby('region')"}
        assert all(chunk["error"] is None for chunk in chunks)
        assert backend.requests[0].body["model"] == "coder"


async def test_errors_arrive_as_readable_chunks(jp_ws_fetch, backend_port, notebook_file) -> None:
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        backend.fail_status = 404
        tab = await jupyter_ai_tab(jp_ws_fetch)
        tab.send(**completion_request(2))
        replies = await tab.until_done(None, 2)
        tab.close()
        errors = [reply["error"] for reply in replies[1:]]
        assert all(
            e["type"] == "ModelNotFound" and "ollama pull coder" in e["title"] for e in errors
        )


async def test_with_our_completer_showing_ghost_text_jupyter_ais_asks_nothing(
    jp_ws_fetch, jp_serverapp, backend_port, notebook_file
) -> None:
    """Jupyter AI's completer turned on beside ours, our model chosen in its settings: only
    ours reaches the model server; once no tab shows our ghost text, Jupyter AI's does."""
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        ours = await connect(jp_ws_fetch)
        ours.send(type="configure", settings={}, ghost_text=True)
        assert (await ours.receive())["source"] == "jupyter-ai"
        theirs = await jupyter_ai_tab(jp_ws_fetch)
        theirs.send(**completion_request(1))
        reply = await theirs.receive()
        assert reply["reply_to"] == 1 and reply["list"]["items"] == [] and not reply["error"]
        ours.request(2, prefix="sales.", path=NOTEBOOK, cell_id="current")
        finals = [m for m in await ours.until_done(2, 2) if m.get("done")]
        assert "groupby('region')" in {m["response"]["insertText"] for m in finals}
        assert len(backend.requests) == 2  # our two suggestions, nothing for Jupyter AI's

        ours.close()  # no tab shows our ghost text any more: Jupyter AI's completer is served
        service = CompletionService.of(jp_serverapp.web_app.settings)
        await until(lambda: not service.ghost_text_tabs, what="our tab's end heard")
        theirs.send(**completion_request(3))
        replies = await theirs.until_done(None, 2)
        assert len(replies[0]["list"]["items"]) == 2 and len(backend.requests) == 4


class TornadoChannel:
    """pycrdt's provider channel over a tornado websocket client."""

    def __init__(self, socket, path: str) -> None:
        self.socket = socket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        message = await self.socket.read_message()
        if message is None:
            raise StopAsyncIteration
        return message

    async def send(self, message: bytes) -> None:
        await self.socket.write_message(message, binary=True)

    async def recv(self) -> bytes:
        return await self.__anext__()


async def test_unsaved_edits_of_other_cells_reach_the_prompt(
    jp_fetch,
    jp_ws_fetch,
    jp_http_port,
    jp_base_url,
    jp_auth_header,
    jp_serverapp,
    jp_root_dir,
    backend_port,
    notebook_file,
) -> None:
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        session = await jp_fetch(
            "api", "collaboration", "session", NOTEBOOK, method="PUT",
            body=json.dumps({"format": "json", "type": "notebook"}),
        )  # fmt: skip
        session = json.loads(session.body)
        room = f"json:notebook:{session['fileId']}"
        # jp_ws_fetch would escape the colons of the room id
        url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}api/collaboration/room/{room}"
        room_socket = await websocket_connect(
            HTTPRequest(f"{url}?sessionId={session['sessionId']}", headers=jp_auth_header)
        )
        client_doc = Doc()
        client = YNotebook(client_doc)
        async with Provider(client_doc, TornadoChannel(room_socket, room)) as provider:
            await asyncio.wait_for(provider.synced.wait(), timeout=10)
            await until(lambda: client.cell_number == 4, 10)  # the room loads the file
            client.set_cell(
                1, {**client.get_cell(1), "source": "sales = pd.read_csv('unsaved.csv')"}
            )

            ydoc = jp_serverapp.web_app.settings["jupyter_server_ydoc"]
            live = await ydoc.get_document(
                path=NOTEBOOK, content_type="notebook", file_format="json", copy=False
            )
            await until(lambda: "unsaved.csv" in live.get_cell(1)["source"], 10)  # the edit arrived

            tab = await jupyter_ai_tab(jp_ws_fetch)
            tab.send(**completion_request(3, prefix="totals = sales."))
            await tab.until_done(None, 2)
            tab.close()
            # our endpoint: the live document wins over the (older) cells the browser sent
            ours = Client(await jp_ws_fetch(*ENDPOINT))
            await ours.receive()
            stale = [{"cell_type": "code", "source": "sales = 'stale'"}]
            ours.send(
                type="request", **completion_request(4, prefix="totals = sales."), above=stale
            )
            messages = await ours.until_done(4, 2)
            ours.close()
            room_socket.close()

        expected = "# Load the sales data\n\nsales = pd.read_csv('unsaved.csv')\n\ntotals = sales."
        for body in (backend.requests[0].body, backend.requests[-1].body):
            assert body["prompt"] == expected
            assert body["suffix"] == "\n\nplot(totals)"
        assert [m["context"] for m in messages if m["type"] == "status"] == ["live"]
        assert "unsaved.csv" not in (jp_root_dir / NOTEBOOK).read_text()


async def test_without_a_live_room_the_request_alone_is_used(
    jp_ws_fetch, backend_port, notebook_file
) -> None:
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        tab = await jupyter_ai_tab(jp_ws_fetch)
        tab.send(**completion_request(4, prefix="x = ", suffix="\ny"))
        await tab.until_done(None, 2)
        tab.close()
        assert backend.requests[-1].body["prompt"] == "x = "
        assert backend.requests[-1].body["suffix"] == "\ny"


async def test_a_newer_request_cancels_the_older_generation(
    jp_ws_fetch, backend_port, notebook_file
) -> None:
    async with FakeBackend(
        port=backend_port, tokens=["x"] * 20, token_delay=0.03, slots=1
    ) as backend:
        tab = await jupyter_ai_tab(jp_ws_fetch)
        tab.send(**completion_request(1, prefix="a = "))
        await until(lambda: backend.tokens_generated >= 2, 10)
        tab.send(**completion_request(2, prefix="a = b"))
        replies = await tab.until_done(None, 4)  # both requests end both tokens
        tab.close()
        old = backend.generations[0]
        assert old.disconnected and old.tokens_sent < 10
        newest = [r for r in replies if r.get("reply_to") == 2 and r.get("done")]
        assert sorted(r["response"]["insertText"] for r in newest)[-1] == "x" * 20


async def test_closing_the_browser_tab_stops_the_generation(
    jp_ws_fetch, backend_port, notebook_file
) -> None:
    async with FakeBackend(port=backend_port, tokens=["x"] * 200, token_delay=0.02) as backend:
        tab = await jupyter_ai_tab(jp_ws_fetch)
        tab.send(**completion_request(1))
        await until(lambda: backend.tokens_generated >= 4, 10)
        tab.close()
        await until(lambda: backend.disconnects == 2, 5)
        assert backend.active == 0 and backend.tokens_generated < 100


async def test_our_endpoint_follows_jupyter_ai_s_model_choice(
    jp_ws_fetch, backend_port, notebook_file
) -> None:
    async with FakeBackend(port=backend_port, tokens=TOKENS) as backend:
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        status = await tab.receive()
        assert status["model"] == "inline-ollama:coder" and status["source"] == "jupyter-ai"
        assert status["suggestions"] == 2
        settings = {"backend": "openai", "model": "ignored-while-jupyter-ai-chooses"}
        tab.send(type="configure", settings=settings)
        assert (await tab.receive())["source"] == "jupyter-ai"
        tab.send(type="request", **completion_request(7))
        replies = await tab.until_done(7, 2)
        tab.close()
    assert {r.body["model"] for r in backend.requests} == {"coder"}
    assert any(r.get("done") and r["response"]["insertText"] for r in replies)
