"""The managed local model: a supervised `llama-server`, its model file and the background
start that a host (the server extension, the benchmarks) uses. No Jupyter imports."""

from . import catalog
from .catalog import default_model_path
from .managed import ManagedModel
from .model_file import ModelFileError, check_model_file
from .process import die_with_parent, free_port, server_binary
from .supervisor import STARTING, LocalLlamaServer

__all__ = [
    "STARTING", "LocalLlamaServer", "catalog", "ManagedModel", "ModelFileError", "check_model_file",
    "default_model_path", "die_with_parent", "free_port", "server_binary",
]  # fmt: skip
