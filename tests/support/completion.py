"""The one builder of completion requests in the tests and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_ai_magics.models.completion import InlineCompletionRequest

DEFAULTS: dict[str, Any] = {"prefix": "x = ", "suffix": "", "mime": "text/x-ipython"}

IN_A_CELL: dict[str, Any] = {
    "prefix": "def add(a, b):\n    ",
    "path": "analysis.ipynb",
    "cell_id": "cell-1",
}
"""A cursor in a notebook cell, for the provider tests."""


def request(number: int = 1, **fields: Any) -> dict[str, Any]:
    """A completion request's fields as both websockets (ours and Jupyter AI's) and Jupyter
    AI's `InlineCompletionRequest` name them: `number`, DEFAULTS, then `fields`, which may
    override those or add `stream`, `path`, `cell_id` or `language`. Our websocket's message
    adds `type: request` (see `ws_client.Client.request`)."""
    return {"number": number, **DEFAULTS} | fields


def inline_request(number: int = 1, **fields: Any) -> InlineCompletionRequest:
    """The same as Jupyter AI hands it to a provider: streamed unless `stream=False`."""
    from jupyter_ai_magics.models.completion import InlineCompletionRequest

    return InlineCompletionRequest(**request(number, **({"stream": True} | fields)))
