"""`Suggestion`: one completion request on its way through the server, for our websocket
and Jupyter AI's providers alike.

In order: the editor is claimed (a newer request for the same editor supersedes this one at
once), the managed local model is waited for while it starts, the prompt is built from the
live collaborative document or else the cells the browser sent (`notebook_context`), and the
suggestions stream from the engine as protocol messages. Nothing calls back up: the caller
reads `context` (where the other cells came from) once the first reply arrived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from ..engine import CompletionRequest, InlineCompleter
from ..engine.protocol import Chunk, ItemList, Reply, collect, stream_replies
from ..local import ManagedModel
from ..notebook_context import ContextSource, notebook_prompt


class Suggestion:
    """Create it when the request arrives (it claims the editor then), iterate `replies()`
    once. `cancel()` ends it early: its suggestions end at once with their `done` chunks."""

    def __init__(
        self,
        completer: InlineCompleter,
        request: CompletionRequest,
        number: int,
        server_settings: Mapping[str, Any] | None,
        local: ManagedModel | None = None,
    ) -> None:
        self.completer = completer
        self.request = request
        self.number = number
        self.server_settings = server_settings
        self.local = local
        """The managed local model when it serves this request: waited for while it starts."""
        self.claim = completer.claim((request.path, request.cell_id))
        self.context: ContextSource | None = None
        """Where the prompt's other cells came from, once the first reply was yielded."""

    def cancel(self) -> None:
        self.claim.cancel()

    @property
    def cancelled(self) -> bool:
        return self.claim.cancelled

    async def replies(self) -> AsyncIterator[Reply | Chunk]:
        """The initial reply, then the chunks (see `stream_replies`); only an empty reply
        when superseded while the local model started. Raises an
        `InlineError` before the first reply when the local model cannot serve; the editor
        is released however it ends."""
        with self.claim:
            if self.local is not None:
                await self.local.wait_ready(lambda: self.claim.cancelled)
                if self.claim.cancelled:  # superseded while it started: nothing to show
                    yield Reply(list=ItemList(items=[]), reply_to=self.number)
                    return
            prompt, self.context = await notebook_prompt(
                self.completer, self.request, self.server_settings
            )
            replies = stream_replies(self.completer, self.request, self.number, prompt, self.claim)
            async with aclosing(replies):
                async for reply in replies:
                    yield reply

    async def reply(self) -> Reply:
        """All suggestions at once (see `collect`)."""
        return await collect(self.replies())
