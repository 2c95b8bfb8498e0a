"""The other cells of a notebook, read from the live collaborative `YNotebook`.

Reads only what the prompt needs: cell ids to find the cursor's cell, then the sources
of its neighbours, nearest first, as the prompt budget asks for them. Nothing is copied,
so the cost does not grow with the notebook's outputs.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import PurePosixPath
from typing import Any, Literal, TypeVar

try:
    from jupyter_ydoc import YNotebook
except ImportError:  # no collaboration installed: completions use the current cell only
    YNotebook = None

from .engine import CellText, CompletionRequest, FimPrompt, InlineCompleter

log = logging.getLogger(__name__)

YDOC_SETTING = "jupyter_server_ydoc"


ContextSource = Literal["live", "browser", "none"]
"""Where a prompt's other cells came from: the live collaborative document, the cells the
browser sent with the request, or nowhere (a file editor, or a client that sends none)."""


async def notebook_prompt(
    completer: InlineCompleter,
    request: CompletionRequest,
    server_settings: Mapping[str, Any] | None,
) -> tuple[FimPrompt, ContextSource]:
    """The prompt with the notebook's other cells: from the live document when the server
    has one for the path (collaboration on, the file open in a room), else from the cells
    the request carries."""
    if request.path and request.cell_id:
        try:
            notebook = await live_notebook(server_settings, request.path)
            if notebook is not None:
                build = partial(completer.prompt, request)
                with_outputs = completer.budget.include_outputs
                prompt = with_neighbours(notebook, request.cell_id, build, with_outputs)
                if prompt is not None:
                    return prompt, "live"
        except Exception:  # context is a bonus: never fail the completion for it
            log.warning("Could not read the notebook context of %s", request.path, exc_info=True)
    if request.above or request.below:
        return completer.prompt(request, request.above, request.below), "browser"
    return completer.prompt(request), "none"


MAX_PATH_CHARS = 1024


def safe_path(path: str) -> bool:
    """A path inside the server's root, as the browser names open files: relative, no
    `..`, no control characters, not absurdly long."""
    if len(path) > MAX_PATH_CHARS or any(ord(char) < 32 for char in path):
        return False
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return bool(parts) and not path.startswith(("/", "~")) and ".." not in parts


async def live_notebook(server_settings: Mapping[str, Any] | None, path: str) -> YNotebook | None:
    """The notebook's shared document if collaboration is on and the file is open. Only a
    file the server already knows (indexed when it was opened) is looked up: a request
    cannot make the server index, or open, a path of its choosing."""
    settings = server_settings or {}
    ydoc_extension = settings.get(YDOC_SETTING)
    file_ids = settings.get("file_id_manager")
    if ydoc_extension is None or YNotebook is None or file_ids is None or not safe_path(path):
        return None
    try:
        if file_ids.get_id(path) is None:
            return None
    except Exception:
        log.debug("No file id for %s", path, exc_info=True)
        return None
    try:
        document = await ydoc_extension.get_document(
            path=path, content_type="notebook", file_format="json", copy=False
        )
    except Exception:  # an unknown path must not fail the completion
        log.debug("No live document for %s", path, exc_info=True)
        return None
    return document if isinstance(document, YNotebook) else None


class CellPositions:
    """Cell id to position, rebuilt only when cells are added, removed or moved.

    Scanning every cell costs about 10 us per cell with pycrdt; typing does not change
    the cells array, so one scan serves all the keystrokes until the next structural edit.
    """

    def __init__(self, notebook: YNotebook) -> None:
        self.cells = notebook.ycells
        self.positions: dict[str, int] | None = None
        self.subscription = self.cells.observe(self.invalidate)

    def invalidate(self, _event: Any = None) -> None:
        self.positions = None

    def find(self, cell_id: str) -> int | None:
        for _attempt in range(2):
            if self.positions is None:
                self.positions = {str(cell.get("id")): i for i, cell in enumerate(self.cells)}
            index = self.positions.get(cell_id)
            if index is None or self.cells[index].get("id") == cell_id:
                return index
            self.invalidate()
        return None


_positions: weakref.WeakKeyDictionary[YNotebook, CellPositions] = weakref.WeakKeyDictionary()


T = TypeVar("T")


def with_neighbours(
    notebook: YNotebook,
    cell_id: str,
    use: Callable[[Iterator[CellText], Iterator[CellText]], T],
    with_outputs: bool = False,
) -> T | None:
    """Call `use(above, below)` with the cells around `cell_id`, nearest first, read
    lazily inside one read transaction; None if the cell is not in the notebook."""
    with notebook.ydoc.transaction():
        cells = neighbours(notebook, cell_id, with_outputs)
        return None if cells is None else use(*cells)


def neighbours(
    notebook: YNotebook, cell_id: str, with_outputs: bool = False
) -> tuple[Iterator[CellText], Iterator[CellText]] | None:
    """Lazy iterators over the cells above and below `cell_id`, nearest first."""
    positions = _positions.get(notebook)
    if positions is None:
        positions = _positions[notebook] = CellPositions(notebook)
    index = positions.find(cell_id)
    if index is None:
        return None
    cells = notebook.ycells

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
