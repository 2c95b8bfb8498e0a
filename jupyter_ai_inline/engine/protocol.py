"""The streamed reply protocol shared by the Jupyter AI providers and our websocket.

Its models mirror Jupyter AI 2's `jupyter_ai_magics.models.completion` field for field
(plus a `type` tag), so either host can send them as they are.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import aclosing
from os.path import commonprefix
from typing import Literal

from pydantic import BaseModel

from .completer import EditorClaim, InlineCompleter
from .errors import InlineError
from .models import CompletionRequest, FimPrompt


class Item(BaseModel):
    insertText: str
    isIncomplete: bool | None = None
    token: str | None = None


class ErrorInfo(BaseModel):
    type: str
    title: str
    traceback: str = ""

    @classmethod
    def of(cls, error: InlineError | None) -> ErrorInfo | None:
        return (
            None
            if error is None
            else cls(type=error.kind, title=error.title, traceback=error.detail)
        )


class ItemList(BaseModel):
    items: list[Item]


class Reply(BaseModel):
    type: Literal["reply"] = "reply"
    list: ItemList
    reply_to: int
    error: ErrorInfo | None = None


class Chunk(BaseModel):
    type: Literal["stream"] = "stream"
    response: Item
    reply_to: int
    done: bool
    error: ErrorInfo | None = None
    keep: int | None = None
    """Set by `Deltas`: `insertText` then follows the first `keep` characters (code points)
    of the token's previous text instead of replacing it."""


class Deltas:
    """Chunks that carry only what changed since the token's previous chunk, so the
    traffic of a suggestion grows with its length, not with its length squared."""

    def __init__(self) -> None:
        self._sent: dict[str | None, str] = {}

    def of(self, message: Reply | Chunk) -> Reply | Chunk:
        if not isinstance(message, Chunk):
            return message
        token, text = message.response.token, message.response.insertText
        previous = self._sent.get(token, "")
        keep = len(previous) if text.startswith(previous) else len(commonprefix([previous, text]))
        self._sent[token] = text
        response = message.response.model_copy(update={"insertText": text[keep:]})
        return message.model_copy(update={"response": response, "keep": keep})


async def stream_replies(
    completer: InlineCompleter,
    request: CompletionRequest,
    number: int,
    prompt: FimPrompt,
    claim: EditorClaim,
) -> AsyncIterator[Reply | Chunk]:
    """An initial reply with one empty item per suggestion, each with its own token, then
    chunks with each suggestion's full text so far: exactly one `done` chunk per token.
    The caller holds `claim` (from `completer.claim()`) and releases it."""
    tokens = [
        f"{number}-{i}-{secrets.token_hex(4)}" for i in range(completer.generation.suggestions)
    ]
    yield Reply(
        list=ItemList(items=[Item(insertText="", isIncomplete=True, token=t) for t in tokens]),
        reply_to=number,
    )
    updates = completer.stream(request, prompt, claim)
    async with aclosing(updates):
        async for update in updates:
            yield Chunk(
                response=Item(
                    insertText=update.text,
                    isIncomplete=not update.done,
                    token=tokens[update.index],
                ),
                reply_to=number,
                done=update.done,
                error=ErrorInfo.of(update.error),
            )


async def collect(replies: AsyncIterator[Reply | Chunk]) -> Reply:
    """A streamed request's replies as one: the distinct non-empty suggestions, or else
    the first error."""
    number = 0
    texts: list[str] = []
    errors: list[ErrorInfo] = []
    async with aclosing(replies):
        async for message in replies:
            number = message.reply_to
            if isinstance(message, Reply):
                errors.extend([message.error] if message.error else [])
            elif message.done and message.error is not None:
                errors.append(message.error)
            elif message.done and message.response.insertText not in ("", *texts):
                texts.append(message.response.insertText)
    return Reply(
        list=ItemList(items=[Item(insertText=text) for text in texts]),
        reply_to=number,
        error=None if texts or not errors else errors[0],
    )
