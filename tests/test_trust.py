"""The completions websocket against hostile and faulty browsers, on a real Jupyter server:
the administrator's key stays with their server, bad input gets an error reply and the
socket stays, a client cannot make the server store paths or exceed its bounds."""

import asyncio
import json
import logging

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.websocket import WebSocketClosedError

from tests.support.completion import request
from tests.support.fake_backend import FakeBackend
from tests.support.ws_client import Client, connect

pytest_plugins = ["pytest_jupyter.jupyter_server"]

SECRET = "sk-admin-0123456789abcdefSECRET"


class CannotRunCode(Authorizer):
    """A read-only collaborator: reads everything, runs nothing."""

    def is_authorized(self, handler, user, action, resource) -> bool:
        return action == "read"


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def other_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(request, backend_port: int, tmp_path) -> dict:
    key_file = tmp_path / "key"
    key_file.write_text(f"{SECRET}\n")
    config = {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_ai_inline": True},
            "log_level": "DEBUG",
        },
        "JupyterAIInline": {
            "backend": "openai",
            "base_url": f"http://127.0.0.1:{backend_port}/v1",
            "model": "admin-model",
            "api_key_file": str(key_file),
            "max_message_bytes": 10_000,
            "max_generations": 2,
            "first_text_timeout": 30.0,
            "local_server": "off",
        },
    }
    for section, values in getattr(request, "param", {}).items():
        config[section] = {**config.get(section, {}), **values}
    return config


async def test_the_key_goes_to_the_administrators_server_only(
    jp_ws_fetch, backend_port, other_port
) -> None:
    tab = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as admin, FakeBackend(port=other_port) as other:
        tab.request(1)
        await tab.until_done(1, 1)
        tab.send(type="configure", settings={"baseUrl": f"{other.url}/v1", "model": "mine"})
        assert (await tab.receive())["base_url"] == f"{other.url}/v1"
        tab.request(2)
        assert (await tab.until_done(2, 1))[-1]["response"]["insertText"] == "abc"
    assert admin.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert other.requests and "authorization" not in other.requests[0].headers


async def test_the_key_never_reaches_the_log(jp_ws_fetch, backend_port, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tab = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, fail_status=401) as admin:
        admin.fail_body = {"error": f"bad key {SECRET}"}
        tab.request(1)
        error = (await tab.until_done(1, 1))[-1]["error"]
    assert admin.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert error["type"] == "AuthenticationFailed" and SECRET[:10] not in json.dumps(error)
    logged = "\n".join(
        record.getMessage() for when in ("setup", "call") for record in caplog.get_records(when)
    )
    assert "Config changed" in logged  # traitlets printed the config, without the key
    assert SECRET[:10] not in logged


@pytest.mark.parametrize(
    "jp_server_config", [{"ServerApp": {"authorizer_class": CannotRunCode}}], indirect=True
)
async def test_choosing_the_model_server_needs_permission_to_run_code(
    jp_ws_fetch, backend_port, other_port
) -> None:
    tab = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as admin, FakeBackend(port=other_port) as other:
        tab.send(type="configure", settings={"baseUrl": f"{other.url}/v1", "suggestions": 2})
        refused = await tab.receive()
        assert refused["error"]["type"] == "BadSettings"
        assert "permission to run code" in refused["error"]["title"]
        status = await tab.receive()
        assert status["base_url"] == f"{admin.url}/v1" and status["suggestions"] == 2
        assert status["can_choose_server"] is False
        tab.request(1)
        await tab.until_done(1, 2)
    assert admin.requests and not other.requests


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"contextAboveChars": -1}, "contextAboveChars"),
        ({"maxTokens": 10**9}, "maxTokens"),
        ({"baseUrl": "::::"}, "baseUrl"),
        ({"baseUrl": "http://[::1"}, "baseUrl"),
        ({"baseUrl": "http://localhost:11434x"}, "baseUrl"),
        ({"baseUrl": "http://a\u0000b"}, "baseUrl"),
        ({"baseUrl": "http://" + "a" * 5_000}, "baseUrl"),
        ({"backend": "gpt"}, "backend"),
    ],
)
async def test_bad_settings_are_reported_and_the_socket_stays(
    jp_ws_fetch, backend_port, settings, field
) -> None:
    tab = await connect(jp_ws_fetch)
    tab.send(type="configure", settings={**settings, "suggestions": 2})
    error = (await tab.receive())["error"]
    assert error["type"] == "BadSettings" and field in error["title"]
    status = await tab.receive()
    assert status["suggestions"] == 2  # the valid fields apply
    assert status["base_url"] == f"http://127.0.0.1:{backend_port}/v1"
    async with FakeBackend(port=backend_port, tokens=["ok"]):
        tab.request(1)
        assert (await tab.until_done(1, 2))[-1]["error"] is None


async def test_no_message_is_left_unanswered(jp_ws_fetch) -> None:
    tab = await connect(jp_ws_fetch)
    for message in ['{"type": "configure", "settings": []}', "[]", "null", '{"type": 5}']:
        tab.socket.write_message(message)
        assert (await tab.receive())["type"] == "error"


COLLABORATION = {
    "ServerApp": {
        "jpserver_extensions": {
            "jupyter_ai_inline": True,
            "jupyter_server_ydoc": True,
            "jupyter_server_fileid": True,
        }
    }
}


@pytest.mark.parametrize("jp_server_config", [COLLABORATION], indirect=True)
@pytest.mark.parametrize(
    "path", ["/etc/passwd", "root/../../etc/passwd", "~/.ssh/id_rsa", "never-opened.ipynb"]
)
async def test_paths_the_user_never_opened_are_not_indexed(
    jp_ws_fetch, jp_serverapp, backend_port, path
) -> None:
    file_ids = jp_serverapp.web_app.settings["file_id_manager"]
    count = "SELECT COUNT(*) FROM Files"
    before = file_ids.con.execute(count).fetchone()[0]
    tab = await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port) as backend:
        for number, where in enumerate([path, path + "x" * 3_000], start=1):
            tab.request(number, path=where, cell_id="c")
            await tab.until_done(number, 1)
    assert file_ids.con.execute(count).fetchone()[0] == before
    assert len(backend.requests) == 2  # each still got its suggestion, without context


async def test_suggestion_traffic_grows_with_its_length(jp_ws_fetch, backend_port) -> None:
    tab = await connect(jp_ws_fetch)
    tab.send(type="configure", settings={"maxTokens": 2000})
    await tab.receive()
    async with FakeBackend(port=backend_port, tokens=["abcd"] * 1500):
        before = tab.received_bytes
        tab.request(1, suffix="\n")
        messages = await tab.until_done(1, 1)
    text = messages[-1]["response"]["insertText"]
    assert text == "abcd" * 1500
    chunks = [m for m in messages if m["type"] == "stream"]
    assert tab.received_bytes - before < 400 * len(chunks)  # full texts would be ~9 MB


async def test_this_servers_generation_limit_is_reported_as_its_own(
    jp_ws_fetch, backend_port
) -> None:
    first, second = await connect(jp_ws_fetch), await connect(jp_ws_fetch)
    async with FakeBackend(port=backend_port, hang=True) as backend:
        first.send(type="configure", settings={"suggestions": 2})
        await first.receive()
        first.request(1)
        await backend.wait_until(lambda: backend.active == 2)
        second.request(1)
        error = (await second.until_done(1, 1))[-1]["error"]
        assert error["type"] == "ServerBusy" and "max_generations" in error["title"]
        first.send(type="cancel", number=1)
        await first.until_done(1, 2)
        await backend.wait_until(lambda: backend.active == 0)
    async with FakeBackend(port=backend_port, tokens=["ok"]):
        second.request(2)
        assert (await second.until_done(2, 1))[-1]["response"]["insertText"] == "ok"


async def test_the_size_limit_counts_bytes_and_big_messages_get_replies(jp_ws_fetch) -> None:
    tab = await connect(jp_ws_fetch)
    message = {"type": "request", **request(1, prefix="é" * 6_000)}
    tab.socket.write_message(json.dumps(message, ensure_ascii=False))
    error = (await tab.receive())["error"]
    assert error["type"] == "MessageTooLarge" and "12,0" in error["title"]  # 6,000 characters
    tab.request(2, prefix="x" * 35_000)  # over our limit, under tornado's
    assert (await tab.receive())["error"]["type"] == "MessageTooLarge"
    tab.send(type="cancel", number=3)  # the socket is still open
    tab.request(4, prefix="x" * 50_000)  # beyond 4 times the limit: closed (1009)
    with pytest.raises((AssertionError, WebSocketClosedError, asyncio.TimeoutError)):
        await tab.receive()


async def test_clients_without_deltas_in_mind_still_see_full_texts(jp_ws_fetch, backend_port):
    """`Client.receive` rebuilds texts as the browser does; the raw chunks carry deltas."""
    raw = Client((await connect(jp_ws_fetch)).socket)
    async with FakeBackend(port=backend_port, tokens=["ab", "cd"]):
        raw.request(1)
        chunks = []
        while not chunks or not chunks[-1]["done"]:
            message = json.loads(await raw.socket.read_message())
            if message["type"] == "stream":
                chunks.append(message)
    assert [c["keep"] for c in chunks if c["response"]["insertText"]] == [0, 2]
    assert "".join(c["response"]["insertText"] for c in chunks) == "abcd"


def test_a_huge_base_url_is_refused_as_a_setting() -> None:
    from jupyter_ai_inline.server.choice import ClientSettings

    settings, problems = ClientSettings.parse({"baseUrl": "http://" + "a" * 100_000, "model": "m"})
    assert settings.baseUrl is None and settings.model == "m"
    assert problems == ["baseUrl: Value error, not a URL (too long, or control characters)"]
