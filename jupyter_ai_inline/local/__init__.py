"""The managed local model: a supervised `llama-server` and its model file. No Jupyter
imports: the server extension (`server/managed_model.py`) and the benchmarks use it."""

from .model_file import ModelFileError, check_model_file, default_model_path
from .process import die_with_parent, free_port, server_binary
from .supervisor import STARTING, LocalLlamaServer

__all__ = [
    "STARTING", "LocalLlamaServer", "ModelFileError", "check_model_file", "default_model_path",
    "die_with_parent", "free_port", "server_binary",
]  # fmt: skip
