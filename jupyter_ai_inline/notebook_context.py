"""The other cells of a notebook, read from the live collaborative `YNotebook`.

Reads only what the prompt needs: cell ids to find the cursor's cell, then the sources
of its neighbours, nearest first, as the prompt budget asks for them. Nothing is copied,
so the cost does not grow with the notebook's outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from jupyter_ydoc import YNotebook

from .engine import CellText

log = logging.getLogger(__name__)

YDOC_SETTING = "jupyter_server_ydoc"


async def live_notebook(server_settings: Mapping[str, Any] | None, path: str) -> YNotebook | None:
    """The notebook's shared document if collaboration is on and the file is open."""
    ydoc_extension = (server_settings or {}).get(YDOC_SETTING)
    if ydoc_extension is None:
        return None
    try:
        document = await ydoc_extension.get_document(
            path=path, content_type="notebook", file_format="json", copy=False
        )
    except Exception:  # an unknown path must not fail the completion
        log.debug("No live document for %s", path, exc_info=True)
        return None
    return document if isinstance(document, YNotebook) else None


def neighbours(
    notebook: YNotebook, cell_id: str, with_outputs: bool = False
) -> tuple[Iterator[CellText], Iterator[CellText]] | None:
    """Lazy iterators over the cells above and below `cell_id`, nearest first."""
    cells = notebook.ycells
    index = next((i for i, cell in enumerate(cells) if cell.get("id") == cell_id), None)
    if index is None:
        return None

    def read(positions: range) -> Iterator[CellText]:
        for position in positions:
            yield cell_text(cells[position], with_outputs)

    return read(range(index - 1, -1, -1)), read(range(index + 1, len(cells)))


def cell_text(cell: Any, with_outputs: bool) -> CellText:
    kind = str(cell.get("cell_type", "code"))
    source = str(cell.get("source", ""))
    if kind not in ("code", "markdown", "raw"):
        kind = "raw"
    outputs = output_text(cell) if with_outputs and kind == "code" else ""
    return CellText(kind=kind, source=source, outputs=outputs)  # type: ignore[arg-type]


OUTPUT_LIMIT = 2000


def output_text(cell: Any) -> str:
    """The short text outputs of a code cell (streams and text/plain), bounded."""
    parts: list[str] = []
    size = 0
    for output in cell.get("outputs") or ():
        kind = output.get("output_type")
        if kind == "stream":
            text = str(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text = (output.get("data") or {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
        else:
            continue
        parts.append(text[: OUTPUT_LIMIT - size])
        size += len(parts[-1])
        if size >= OUTPUT_LIMIT:
            break
    return "".join(parts).strip()
