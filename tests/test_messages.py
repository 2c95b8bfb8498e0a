"""Malformed input on a real Jupyter server: hostile websocket messages and a broken Jupyter AI
choice get readable error replies, the socket stays, and the log gets no traceback."""

import logging
from types import SimpleNamespace

import pytest

from tests.support.fake_backend import FakeBackend
from tests.support.ws_client import ENDPOINT, Client, connect, llamacpp_server_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

DEPTH = 200_000


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(backend_port: int) -> dict:
    return llamacpp_server_config(backend_port)


@pytest.mark.parametrize(
    "message",
    [
        "[" * DEPTH,
        "[" * DEPTH + "]" * DEPTH,
        '{"a":' * 150_000 + "1" + "}" * 150_000,
        '{"type": "request", "number": 3, "prefix": ' + "[" * DEPTH + "]" * DEPTH + "}",
    ],
    ids=["open-arrays", "closed-arrays", "objects", "nested-field"],
)
async def test_deeply_nested_json_is_a_bad_message_without_a_traceback(
    jp_ws_fetch, backend_port, message, caplog
) -> None:
    tab = await connect(jp_ws_fetch)
    with caplog.at_level(logging.DEBUG):
        tab.socket.write_message(message)
        error = await tab.receive()
    assert error["type"] == "error" and error["error"]["type"] == "BadMessage", error
    assert len(error["error"]["title"]) <= 200
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    async with FakeBackend(port=backend_port, tokens=["ok"]):  # the socket stays
        tab.request(1)
        assert (await tab.until_done(1, 1))[-1]["response"]["insertText"] == "ok"


@pytest.mark.parametrize("number", [True, "5", -0.0, 5.0, 1.5, -1, 2**60, None])
async def test_only_integers_are_request_numbers(jp_ws_fetch, number) -> None:
    tab = await connect(jp_ws_fetch)
    tab.send(type="request", number=number, prefix="x = ")
    error = await tab.receive()
    assert error["error"]["type"] == "BadMessage" and "number" in error["error"]["title"]
    assert error["reply_to"] is None  # no request of that number exists to end
    tab.send(type="cancel", number=number)
    assert (await tab.receive())["error"]["type"] == "BadMessage"


def choose_in_jupyter_ai(serverapp, model_id: str, parameters: dict) -> None:
    """Jupyter AI 2 as our chooser sees it: its config manager's completions model and the
    administrator's `model_parameters` for it."""
    settings = serverapp.web_app.settings
    settings["jai_config_manager"] = SimpleNamespace(
        completions_lm_provider=SimpleNamespace(id="inline-llamacpp"),
        completions_lm_provider_params={"model_id": model_id},
    )
    settings["model_parameters"] = {f"inline-llamacpp:{model_id}": parameters}


async def test_a_broken_jupyter_ai_choice_is_reported_and_our_settings_serve(
    jp_serverapp, jp_ws_fetch, backend_port, caplog
) -> None:
    choose_in_jupyter_ai(jp_serverapp, "coder", {"suggestions": "two"})
    with caplog.at_level(logging.DEBUG):
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        error, status = await tab.receive(), await tab.receive()
    assert error["error"]["type"] == "BadSettings"
    title = error["error"]["title"]
    assert "inline-llamacpp:coder" in title and "suggestions" in title
    assert status["type"] == "status" and status["source"] == "settings"
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    async with FakeBackend(port=backend_port, tokens=["ok"]):
        tab.request(1)
        assert (await tab.until_done(1, 1))[-1]["response"]["insertText"] == "ok"
        tab.request(2)  # reported once per connection, not with every request
        assert "error" not in [m["type"] for m in await tab.until_done(2, 1)]
