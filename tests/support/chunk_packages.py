"""Fake chunk packages for the local model catalog: distributions on `sys.path` (a
`*.dist-info` with a RECORD and one data file each), as the model extras install them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from jupyter_ai_inline.local.catalog import CatalogModel


def install_parts(site: Path, prefix: str, data: bytes, pieces: int, version: str = "1.0") -> None:
    """Fake distributions `<prefix>1` … `<prefix><pieces>` holding `data` in order."""
    size = -(-len(data) // pieces)
    for number in range(1, pieces + 1):
        name = f"{prefix}{number}"
        module = name.replace("-", "_")
        chunk = site / module / "data" / f"part{number:02}.bin"
        chunk.parent.mkdir(parents=True)
        chunk.write_bytes(data[(number - 1) * size : number * size])
        (site / module / "__init__.py").write_text("raise RuntimeError('never imported')\n")
        info = site / f"{module}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        files = [
            f"{module}/__init__.py",
            f"{module}/data/part{number:02}.bin",
            f"{info.name}/RECORD",
        ]
        (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))


def model_of(data: bytes, name: str, params: int, **fields) -> CatalogModel:
    fields = {
        "title": name.title(), "file_name": f"{name}.gguf", "extra": f"x-{name}",
        "parts": (f"{name}-part1", f"{name}-part2"), "version": "1.0", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), **fields,
    }  # fmt: skip
    return CatalogModel(name=name, params=params, **fields)
