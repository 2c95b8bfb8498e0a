"""Run the suggestions of one request concurrently, newest request first."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing

from .backends import Backend
from .errors import BackendBusy, BackendError, InlineError
from .limits import GenerationLimit, Skipped
from .merge import Merged
from .models import (
    CellText,
    CompletionRequest,
    ContextBudget,
    FimPrompt,
    GenerationSettings,
    Sampling,
    SuggestionUpdate,
)
from .postprocess import process
from .prompt import build_prompt

log = logging.getLogger(__name__)

EditorKey = tuple[str | None, str | None]

OWN_LIMIT = 16
"""The bound of a completer given no shared limit."""


class EditorClaim:
    """One request's hold on its editor (path, cell). Cancel it to stop the request's
    generation at once, before or while it streams; a newer claim on the editor cancels
    it. Leaving its `with` block gives the editor back (unless a newer claim holds it)."""

    def __init__(self, completer: InlineCompleter, key: EditorKey) -> None:
        self.key = key
        self.cancelled = False
        self._completer = completer
        self._merged: Merged[str] | None = None

    def attach(self, merged: Merged[str]) -> None:
        self._merged = merged
        if self.cancelled:
            merged.cancel()

    def cancel(self) -> None:
        self.cancelled = True
        if self._merged is not None:
            self._merged.cancel()

    def __enter__(self) -> EditorClaim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._completer._release(self)


class InlineCompleter:
    """Streams suggestions from one backend; a new request for the same editor
    (path, cell) supersedes the running one and closes its backend streams at once."""

    def __init__(
        self,
        backend: Backend,
        generation: GenerationSettings | None = None,
        budget: ContextBudget | None = None,
        limit: GenerationLimit | None = None,
    ) -> None:
        self.backend = backend
        self.generation = generation or GenerationSettings()
        self.budget = budget or ContextBudget()
        self.limit = limit or GenerationLimit(OWN_LIMIT)
        """Usually shared with other completers: the server-wide bound on generations (and
        its warm-up, and the pauses of overloaded model servers)."""
        self._claims: dict[EditorKey, EditorClaim] = {}

    def sampling(self, index: int) -> Sampling:
        """The first suggestion is greedy; the others sample with their own seed."""
        if index == 0:
            return Sampling(max_tokens=self.generation.max_tokens, temperature=0.0)
        return Sampling(
            max_tokens=self.generation.max_tokens,
            temperature=self.generation.temperature,
            seed=index,
        )

    def prompt(
        self,
        request: CompletionRequest,
        above: Iterable[CellText] = (),
        below: Iterable[CellText] = (),
    ) -> FimPrompt:
        return build_prompt(request, self.budget, above, below)

    def claim(self, key: EditorKey) -> EditorClaim:
        """Claim the editor for a new request, cancelling the one it supersedes. Use the
        claim as a context manager around the whole request: leaving it releases it."""
        previous = self._claims.pop(key, None)
        if previous is not None:
            previous.cancel()
        claim = self._claims[key] = EditorClaim(self, key)
        return claim

    def _release(self, claim: EditorClaim) -> None:
        if self._claims.get(claim.key) is claim:
            del self._claims[claim.key]

    def _warm_key(self, prompt: FimPrompt) -> tuple[str, str, FimPrompt]:
        return (self.backend.base_url, self.backend.settings.model, prompt)

    def _continues(self, prompt: FimPrompt) -> Callable[[object], bool]:
        """Whether a warm-up's key is a start of `prompt` on the same server and model (the
        user typed on in the warmed cell, or moved on to the next one): its work is this
        prompt's first part."""

        def continues(key: object) -> bool:
            if not isinstance(key, tuple) or len(key) != 3 or not isinstance(key[2], FimPrompt):
                return False
            url, model, warmed = key
            same_model = (url, model) == (self.backend.base_url, self.backend.settings.model)
            return same_model and prompt.full_prefix.startswith(warmed.full_prefix)

        return continues

    async def _generate(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        """One suggestion's text, within the shared generation limit; a model server that
        answered 429/503 is not asked again until its pause is over."""
        url, limit = self.backend.base_url, self.limit
        limit.check_backoff(url)
        try:
            async with (
                limit.slot(self._continues(prompt)),
                aclosing(self.backend.generate(prompt, sampling)) as pieces,
            ):
                async for piece in pieces:
                    limit.recovered(url)
                    yield piece
        except BackendBusy as error:
            if error.overloaded:
                limit.overloaded(url, error.retry_after)
            raise

    async def warm(self, prompt: FimPrompt) -> Skipped | None:
        """Prepare the model server for `prompt` ahead of a suggestion, as the one warm-up of
        the generation limit (see `GenerationLimit.warm`): None once done, else why not.
        Raises `InlineError` if the server cannot do it or fails."""
        backend = self.backend
        if self.limit.backoff_left(backend.base_url) > 0:
            return "busy"
        return await self.limit.warm(
            self._warm_key(prompt), lambda: backend.warm(prompt), self._continues(prompt)
        )

    async def stream(
        self, request: CompletionRequest, prompt: FimPrompt, claim: EditorClaim | None = None
    ) -> AsyncIterator[SuggestionUpdate]:
        """Yield the full processed text of each suggestion as it grows.

        Every suggestion index ends with exactly one update with `done=True`, also when
        the request is cancelled or superseded, or the backend fails (then with `error`).
        `claim` comes from `claim()` when the caller holds the editor for longer (and
        releases it); without one, the stream claims and releases the editor itself.
        """
        own_claim = claim is None
        claim = claim or self.claim((request.path, request.cell_id))
        count = self.generation.suggestions
        raw = [""] * count
        shown = [""] * count
        finished: dict[int, str] = {}
        streams = [self._generate(prompt, self.sampling(i)) for i in range(count)]
        merged: Merged[str] = Merged([] if claim.cancelled else streams)
        try:
            async with merged:
                claim.attach(merged)
                async for item in merged:
                    i = item.index
                    if item.value is not None:
                        raw[i] += item.value
                        result = process(raw[i], request.prefix, request.suffix)
                        if result.complete:
                            merged.cancel(i)  # stop generating; done comes next
                        elif result.text != shown[i]:
                            shown[i] = result.text
                            yield SuggestionUpdate(i, result.text)
                        continue
                    text = process(raw[i], request.prefix, request.suffix, final=True).text
                    if any(j < i and text == done for j, done in finished.items()):
                        # a duplicate of an earlier suggestion; never the one a user may be
                        # looking at (the first), whichever ends first
                        text = ""
                    finished[i] = text
                    error = _readable(item.error)
                    if error is not None:
                        error = self.backend.scrub(error)
                    yield SuggestionUpdate(i, text, done=True, error=error)
            for i in range(count):
                if i not in finished:  # cancelled or superseded
                    yield SuggestionUpdate(i, shown[i], done=True)
        finally:
            for stream in streams:
                await stream.aclose()  # those never started
            if own_claim:
                claim.__exit__()


def _readable(error: BaseException | None) -> InlineError | None:
    if error is None or isinstance(error, InlineError):
        return error
    log.exception("Unexpected error in a completion stream", exc_info=error)
    return BackendError(f"Unexpected error: {type(error).__name__}")
