"""The local model's file: checks that a path is a GGUF model (the models we know by name are
in `catalog`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..engine.errors import LocalModelUnavailable

GGUF_MAGIC = b"GGUF"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "jupyter-ai-inline" / "models"


class ModelFileError(LocalModelUnavailable):
    """The model file is missing, unreadable or not a GGUF file."""


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def check_model_file(path: str | Path) -> Path:
    """Fail with a readable `ModelFileError` unless `path` looks like a GGUF model."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelFileError(f"Model file not found: {path}")
    if not path.is_file():
        raise ModelFileError(f"Model path is not a file: {path}")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"Model file {path} is not a GGUF file (corrupt, truncated or another format)"
        )
    return path
