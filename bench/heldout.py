"""The held-out notebook tasks in `bench/heldout/`: line completions cut, by the rules of
`../shared/eval/README.md`, from notebooks that nobody on the project has seen or tuned on.

Source: the example notebooks (`examples/notebooks/*.ipynb`) of statsmodels 0.15.0, from its
source distribution on PyPI, `statsmodels-0.15.0.tar.gz` (SHA-256
`5d257fe58d0772bc46a557880ca78e2a8e07fec7bfd9d11074aef8e33e1aecbc`), BSD-3-Clause
(`bench/heldout/LICENSE-statsmodels`). The notebooks ship without outputs, so every
`cell_outputs` entry is null. Regenerate (the same seed gives the same
files; the sdist is only read, nothing is built)::

    python bench/heldout.py                       # downloads URL (from PyPI's JSON API)
    python bench/heldout.py statsmodels-0.15.0.tar.gz   # or a copy at hand

Score with `python bench/quality.py --data bench/heldout`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

SDIST = "statsmodels-0.15.0.tar.gz"
URL = (
    "https://files.pythonhosted.org/packages/a8/1f/"
    "a3cbf6ed7cf6286afec694bfef561f3e51483197716717fb8476f1f0c50e/" + SDIST
)
SHA256 = "5d257fe58d0772bc46a557880ca78e2a8e07fec7bfd9d11074aef8e33e1aecbc"
REPO = "statsmodels/statsmodels"
VERSION = "v0.15.0"  # the release tag; the sdist names no commit
NOTEBOOKS_DIR = "statsmodels-0.15.0/examples/notebooks/"
LICENSE_FILE = "statsmodels-0.15.0/LICENSE.txt"
OUT = Path(__file__).resolve().parent / "heldout"

SEED = 22  # issue 22
NOTEBOOKS = 24
PER_NOTEBOOK = 5  # the rules allow 6; ../shared/eval has 4 or 5
MIN_CHARS = 12  # non-space characters of a line that qualifies
CUT_AFTER = 0.3  # of the line's text
OUTPUT_CHARS = 200

IMPORT_ONLY = re.compile(r"(import\s+[\w., ]+|from\s+[\w.]+\s+import\s+[\w., ()*]+)(\s+as\s+\w+)?")
DOCSTRING = ('"""', "'''", 'r"""', "r'''")


def qualifies(line: str) -> bool:
    """A line to cut: 12 non-space characters, not a comment, an import-only line, a magic, a
    shell line or a docstring delimiter."""
    text = line.strip()
    return (
        len("".join(text.split())) >= MIN_CHARS
        and not text.startswith(("#", "%", "!", *DOCSTRING))
        and not text.endswith(DOCSTRING[:2])
        and not IMPORT_ONLY.fullmatch(text)
    )


def short_output(outputs: Sequence[dict[str, Any]]) -> str | None:
    """A code cell's first text/plain or stream output, cut to 200 characters, else None."""
    for output in outputs:
        text = output.get("data", {}).get("text/plain") if "data" in output else output.get("text")
        if text:
            return ("".join(text) if isinstance(text, list) else text)[:OUTPUT_CHARS]
    return None


def notebook_record(name: str, notebook: dict[str, Any]) -> dict[str, Any]:
    """The `notebooks.jsonl` line: cells without outputs, and each cell's short output."""
    cells = notebook["cells"]
    language = notebook.get("metadata", {}).get("kernelspec", {}).get("language", "python")
    return {
        "notebook": name,
        "repo": REPO,
        "commit": VERSION,
        "source": SDIST,
        "language": language,
        "cells": [{"cell_type": c["cell_type"], "source": "".join(c["source"])} for c in cells],
        "cell_outputs": [short_output(c.get("outputs", [])) for c in cells],
    }


def candidates(record: dict[str, Any]) -> list[tuple[int, int]]:
    """(cell, line) of the lines that qualify: code cells after the first, no cell magics."""
    code = [i for i, c in enumerate(record["cells"]) if c["cell_type"] == "code"]
    found = []
    for index in code[1:]:
        source = record["cells"][index]["source"]
        if source.lstrip().startswith("%%"):
            continue
        found += [(index, n) for n, line in enumerate(source.split("\n")) if qualifies(line)]
    return found


def cut(record: dict[str, Any], index: int, number: int, rng: random.Random) -> dict[str, Any]:
    """The task: the line cut at a random column after the first 30 % of its text."""
    lines = record["cells"][index]["source"].split("\n")
    line = lines[number]
    indent = len(line) - len(line.lstrip())
    size = len(line.strip())
    column = indent + rng.randint(math.ceil(CUT_AFTER * size), size - 1)
    rest = lines[number + 1 :]
    stem = record["notebook"].removesuffix(".ipynb")
    return {
        "id": f"{stem}:{index}:{number}",
        "notebook": record["notebook"],
        "cell_index": index,
        "line_index": number,
        "cut_column": column,
        "language": record["language"],
        "prefix": "\n".join([*lines[:number], line[:column]]),
        "suffix": "\n" + "\n".join(rest) if rest else "",
        "target": line[column:],
    }


def read_sdist(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The notebooks of the sdist, by file name, in name order."""
    with tarfile.open(path) as tar:
        members = sorted(
            (m for m in tar.getmembers() if m.name.startswith(NOTEBOOKS_DIR)),
            key=lambda m: m.name,
        )
        for member in members:
            if member.isfile() and member.name.endswith(".ipynb"):
                file = tar.extractfile(member)
                assert file is not None
                yield member.name.removeprefix(NOTEBOOKS_DIR), json.load(file)


def download(folder: Path) -> Path:
    """The sdist, fetched from PyPI into `folder`."""
    path = folder / SDIST
    with urllib.request.urlopen(URL) as response:
        path.write_bytes(response.read())
    return path


def build(sdist: Path, out: Path, notebooks: int, per_notebook: int, seed: int) -> None:
    """Sample `notebooks` notebooks with at least `per_notebook` qualifying cells, cut one line
    in each of `per_notebook` of their cells, and write the tasks round-robin over the
    notebooks (so that `--limit` and `--quick` take several)."""
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{sdist}: SHA-256 {digest}, expected {SHA256}")
    rng = random.Random(seed)
    records = [notebook_record(name, nb) for name, nb in read_sdist(sdist)]
    usable = [r for r in records if len({i for i, _ in candidates(r)}) >= per_notebook]
    chosen = rng.sample(usable, min(notebooks, len(usable)))
    per_record = []
    for record in chosen:
        by_cell: dict[int, list[int]] = {}
        for index, number in candidates(record):
            by_cell.setdefault(index, []).append(number)
        cells = sorted(rng.sample(sorted(by_cell), per_notebook))
        per_record.append([cut(record, i, rng.choice(by_cell[i]), rng) for i in cells])
    tasks = [t for round_ in zip(*per_record, strict=True) for t in round_]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "notebooks.jsonl").open("w") as file:
        for record in sorted(chosen, key=lambda r: r["notebook"]):
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (out / "tasks.jsonl").open("w") as file:
        for task in tasks:
            file.write(json.dumps(task, ensure_ascii=False) + "\n")
    with tarfile.open(sdist) as tar:
        license_file = tar.extractfile(LICENSE_FILE)
        assert license_file is not None
        (out / "LICENSE-statsmodels").write_bytes(license_file.read())
    print(f"{len(chosen)} notebooks (of {len(records)}), {len(tasks)} tasks -> {out}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist", type=Path, nargs="?", help=f"{SDIST} (default: download it)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--notebooks", type=int, default=NOTEBOOKS)
    parser.add_argument("--per-notebook", type=int, default=PER_NOTEBOOK)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or download(Path(tmp))
        build(sdist, args.out, args.notebooks, args.per_notebook, args.seed)


if __name__ == "__main__":
    main()
