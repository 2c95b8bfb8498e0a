"""`CompletionSession`: what one browser tab's websocket holds, and what it does with a
message once the handler has parsed and authorized it.

It keeps the tab's settings and the model chosen from them (with its completer, whose editor
claims make a newer request supersede an older one), runs each request as a `Suggestion` of
the service and each warm-up through the service, and sends the tab its status whenever the
service's `changes` say it may have changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from ..engine import CompletionRequest, InlineCompleter
from ..engine.config import ModelConfig
from ..engine.errors import BadMessage, BadSettings, InlineError, ServerError, TooManyRequests
from ..engine.protocol import Deltas, ErrorInfo
from ..notebook_context import ContextSource
from .choice import ClientSettings, Source
from .messages import BrowserMessage, CancelMessage, ConfigureMessage, WarmMessage
from .pipeline import Suggestion
from .service import CompletionService

UNEXPECTED = ServerError("Unexpected server error: see the Jupyter log")

BROWSER_BUDGET = {
    "above_chars", "below_chars", "max_cells", "include_outputs", "output_chars", "variables_chars"
}  # fmt: skip
"""The parts of the context budget the browser applies (in the status)."""

Send = Callable[[dict[str, Any] | str], bool]
"""Writes a message to the browser; False once it has gone."""


class CompletionSession:
    """One tab's requests, warm-ups and status. `close()` when the socket closes."""

    def __init__(
        self,
        service: CompletionService,
        server_settings: dict[str, Any],
        send: Send,
        *,
        may_choose_server: bool,
        log: logging.Logger,
    ) -> None:
        self.service = service
        self.server_settings = server_settings
        self.send = send
        self.may_choose_server = may_choose_server
        self.log = log
        self.client_settings = ClientSettings()
        self.chosen: ModelConfig | None = None
        self.source: Source = "settings"
        self.completer: InlineCompleter | None = None
        self.inflight: dict[int, tuple[Suggestion, asyncio.Task[None]]] = {}
        self.context_source: ContextSource | None = None
        """Where the last prompt's other cells came from (None before the first)."""
        self.jupyter_ai_problem: str | None = None
        """Why Jupyter AI's choice of our model is not used, as last told to this browser."""
        self.warming: tuple[int, asyncio.Task[None]] | None = None
        """This tab's warm-up (its number and task); a newer one replaces it."""
        self.current_completer(announce=False)
        self._unsubscribe = service.changes.subscribe(self.changed)
        self.send_status()

    def close(self) -> None:
        """The tab has gone: stop its requests and warm-up, hear no more changes."""
        self._unsubscribe()
        self.service.shows_ghost_text(self, False)
        for suggestion, task in self.inflight.values():
            suggestion.cancel()
            task.cancel()
        if self.warming is not None:
            self.warming[1].cancel()

    # -- replies -----------------------------------------------------------------------------

    def reply_error(self, error: InlineError, reply_to: int | None = None) -> None:
        info = ErrorInfo.of(error)
        self.send({"type": "error", "reply_to": reply_to, "error": info and info.model_dump()})

    def changed(self) -> None:
        """Something the status tells changed (e.g. the local model now runs another model):
        choose again, then say so."""
        self.current_completer(announce=False)
        self.send_status()

    def send_status(self) -> None:
        """The chosen model, llama.cpp's mode, the managed local server's state when it
        serves the model, where the context came from and the browser's budget."""
        assert self.chosen is not None and self.completer is not None
        message = self.service.status(self.chosen, self.source, self.completer.backend)
        message["can_choose_server"] = self.may_choose_server
        message["can_warm"] = self.service.warms(self.chosen)
        message["max_message_bytes"] = self.service.admin.max_message_bytes
        message["context"] = self.context_source
        message["context_budget"] = self.completer.budget.model_dump(include=BROWSER_BUDGET)
        self.send(message)

    # -- the model ---------------------------------------------------------------------------

    def current_completer(self, announce: bool = True) -> InlineCompleter:
        """The completer of the chosen model, rebuilt when the choice changed (e.g. in
        Jupyter AI's settings), and then the status sent unless not `announce`."""
        config, self.source = self.service.choose(self.server_settings, self.client_settings)
        problem = self.service.jupyter_ai_problem
        if problem != self.jupyter_ai_problem:  # told once per connection, not per request
            self.jupyter_ai_problem = problem
            if problem:
                self.reply_error(BadSettings(problem))
        if config != self.chosen or self.completer is None:
            self.chosen, self.completer = config, self.service.completer(config)
            if announce:
                self.send_status()
        return self.completer

    def configure(self, raw: dict[str, Any]) -> None:
        """Take the browser's settings, leaving out (and reporting) what cannot be used."""
        settings, problems = ClientSettings.parse(raw)
        if settings.chooses_server and not self.may_choose_server:
            settings = settings.sizes_only()
            problems.append(
                "choosing the model server needs permission to run code on this Jupyter "
                "server: its administrator's model is used"
            )
        self.client_settings = settings
        self.service.use_local_model(settings)
        if problems:
            self.reply_error(BadSettings(f"Settings not applied: {'; '.join(problems)}"))
        self.current_completer(announce=False)
        self.send_status()

    def handle(self, message: BrowserMessage) -> None:
        """One parsed message from the tab."""
        if isinstance(message, ConfigureMessage):
            self.service.shows_ghost_text(self, message.ghost_text)
            self.configure(message.settings)
        elif isinstance(message, CancelMessage):
            self.cancel(message.number)
        else:
            # the model chosen once per message: its budget, then its completer
            max_cells = self.current_completer().budget.max_cells
            request = message.completion_request(max_cells)
            if isinstance(message, WarmMessage):
                self.warm(message.number, request)
            else:
                self.request(message.number, request)

    # -- requests ----------------------------------------------------------------------------

    def request(self, number: int, request: CompletionRequest) -> None:
        """Start a request (refused when too many run, or its number is taken)."""
        if len(self.inflight) >= self.service.admin.max_requests_in_flight:
            self.reply_error(TooManyRequests("Too many requests in flight"), number)
            return
        if number in self.inflight:
            self.reply_error(BadMessage(f"Request {number} is already running"), number)
            return
        completer, config = self.completer, self.chosen  # chosen by `handle` just now
        assert completer is not None and config is not None
        suggestion = self.service.suggestion(
            completer, config, request, number, self.server_settings
        )
        task = asyncio.create_task(self.serve(suggestion))
        self.inflight[number] = (suggestion, task)
        task.add_done_callback(lambda _task: self.inflight.pop(number, None))

    def cancel(self, number: int) -> None:
        if number in self.inflight:
            self.inflight[number][0].cancel()

    async def serve(self, suggestion: Suggestion) -> None:
        """Send a request's replies as deltas until its last chunk or the tab's end (a
        superseded one ends at once with its `done` chunks)."""
        number = suggestion.number
        changes = Deltas()
        try:
            async with aclosing(suggestion.replies()) as replies:
                async for reply in replies:
                    if not self.send(changes.of(reply).model_dump_json()):
                        return
                    if suggestion.context != self.context_source:
                        self.context_source = suggestion.context
                        self.send_status()
        except InlineError as error:  # the local model cannot serve
            self.reply_error(error, number)
        except Exception:
            self.log.exception("Inline completion %s failed", number)
            self.reply_error(UNEXPECTED, number)

    # -- warm-ups ----------------------------------------------------------------------------

    def warm(self, number: int, request: CompletionRequest) -> None:
        """Replace this tab's warm-up (the replaced one is answered `superseded`)."""
        if self.warming is not None:
            previous, running = self.warming
            if running.cancel():
                self.send_warmed(previous, "superseded")
        task = asyncio.create_task(self.warm_up(number, request))
        self.warming = (number, task)

        def forget(_task: asyncio.Task[None]) -> None:
            if self.warming and self.warming[1] is task:
                self.warming = None

        task.add_done_callback(forget)

    async def warm_up(self, number: int, request: CompletionRequest) -> None:
        started = time.perf_counter()
        completer, config = self.completer, self.chosen  # chosen by `handle`
        assert completer is not None and config is not None
        skipped = await self.service.warm(completer, config, request, self.server_settings)
        ms = None if skipped else round((time.perf_counter() - started) * 1000)
        self.send_warmed(number, skipped, ms)

    def send_warmed(self, number: int, skipped: str | None, ms: int | None = None) -> None:
        self.send({"type": "warmed", "reply_to": number, "ms": ms, "skipped": skipped})
