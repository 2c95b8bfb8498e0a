"""The completions websocket: one per browser tab. It parses messages and delegates to the
`CompletionService` (the model choice, the local model) and the engine (the suggestions)."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing
from typing import Annotated, Any, Literal

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from pydantic import BaseModel, Field, StrictInt, TypeAdapter, ValidationError
from pydantic_core import from_json
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..engine import CellText, CompletionRequest, FimPrompt, InlineCompleter, KernelVariable
from ..engine.completer import EditorClaim
from ..engine.config import ModelConfig
from ..engine.errors import (
    BadMessage,
    BadSettings,
    InlineError,
    MessageTooLarge,
    ServerError,
    TooManyRequests,
    cut,
)
from ..engine.protocol import Deltas, ErrorInfo, stream_replies
from ..notebook_context import ContextSource, notebook_prompt
from .choice import ClientSettings, Source
from .service import CompletionService


class CellMessage(BaseModel):
    """One other cell of the notebook (or a console's earlier input), as the browser has it."""

    cell_type: Literal["code", "markdown", "raw"]
    source: str
    outputs: str = ""

    def cell(self) -> CellText:
        return CellText(kind=self.cell_type, source=self.source, outputs=self.outputs)


class VariableMessage(BaseModel):
    """One variable of the kernel's summary (`kernel_summary.py`), as the browser got it."""

    name: Annotated[str, Field(max_length=256)]
    text: Annotated[str, Field(max_length=1024)]

    def variable(self) -> KernelVariable:
        return KernelVariable(name=self.name, text=self.text)


BROWSER_BUDGET = {
    "above_chars", "below_chars", "max_cells", "include_outputs", "output_chars", "variables_chars"
}  # fmt: skip
"""The parts of the context budget the browser applies (in the status)."""

MAX_VARIABLES = 1000
"""More variables than this are left out (the kernel sends its most recent first)."""


RequestNumber = Annotated[StrictInt, Field(ge=0, le=2**53 - 1)]
"""A request's number: a JSON integer the browser counts up (not `true`, `"5"` or `-0.0`)."""
REQUEST_NUMBER = TypeAdapter(RequestNumber)


class RequestMessage(BaseModel):
    type: Literal["request"]
    number: RequestNumber
    prefix: str
    suffix: str = ""
    mime: Annotated[str | None, Field(max_length=256)] = None
    path: Annotated[str | None, Field(max_length=4096)] = None
    cell_id: Annotated[str | None, Field(max_length=256)] = None
    language: Annotated[str | None, Field(max_length=256)] = None
    above: list[CellMessage] = []
    below: list[CellMessage] = []
    """The other cells, nearest first; more than the budget's `max_cells` are left out."""
    variables: list[VariableMessage] = []
    """The kernel's variables, most recently defined first."""

    def completion_request(self, max_cells: int) -> CompletionRequest:
        listed = {"above", "below", "variables"}
        fields = self.model_dump(include=set(CompletionRequest.model_fields) - listed)
        return CompletionRequest(
            **fields,
            above=tuple(cell.cell() for cell in self.above[:max_cells]),
            below=tuple(cell.cell() for cell in self.below[:max_cells]),
            variables=tuple(v.variable() for v in self.variables[:MAX_VARIABLES]),
        )


class WarmMessage(RequestMessage):
    """A cell gained focus: prepare the model server for a request at this cursor."""

    type: Literal["warm"]  # type: ignore[assignment]


def request_number(message: str | bytes) -> int | None:
    """The `number` of a malformed request, so that its error ends that request."""
    try:
        number = from_json(message).get("number")  # bounded nesting, unlike json.loads
        return REQUEST_NUMBER.validate_python(number)
    except (ValueError, AttributeError):  # ValidationError is a ValueError
        return None


class CancelMessage(BaseModel):
    type: Literal["cancel"]
    number: RequestNumber


class ConfigureMessage(BaseModel):
    type: Literal["configure"]
    settings: dict[str, Any]
    """Checked field by field (`ClientSettings.parse`): a bad field is reported and left out."""


UNEXPECTED = ServerError("Unexpected server error: see the Jupyter log")

Message = TypeAdapter(
    Annotated[
        RequestMessage | WarmMessage | CancelMessage | ConfigureMessage,
        Field(discriminator="type"),
    ]
)


class CompletionsHandler(JupyterHandler, WebSocketHandler):
    """Requests in, streamed replies out; `cancel` and newer requests stop older ones."""

    auth_resource = "contents"
    choose_permission = ("execute", "kernels")
    """Choosing the model server (backend, base URL, model) makes this server send requests
    where the browser says: allowed to those who may run code here anyway."""

    def initialize(self, service: CompletionService) -> None:
        self.service = service
        self.may_choose_server = False
        self.client_settings = ClientSettings()
        self.chosen: ModelConfig | None = None
        self.source: Source = "settings"
        self.completer: InlineCompleter | None = None
        self.inflight: dict[int, tuple[EditorClaim, asyncio.Task[None]]] = {}
        self.context_source: ContextSource | None = None
        self.jupyter_ai_problem: str | None = None
        """Why Jupyter AI's choice of our model is not used, as last told to this browser."""
        """Where the last prompt's other cells came from (None before the first)."""
        self.warming: tuple[int, asyncio.Task[None]] | None = None
        """This connection's warm-up (its number and task); a newer one replaces it."""

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.current_user
        if not await ensure_async(self.authorizer.is_authorized(self, user, "read", "contents")):
            raise web.HTTPError(403)
        action, resource = self.choose_permission
        self.may_choose_server = await ensure_async(
            self.authorizer.is_authorized(self, user, action, resource)
        )
        await super().get(*args, **kwargs)

    @property
    def max_message_size(self) -> int:
        """Tornado's own limit, above ours: a message between the two gets an error reply;
        only one beyond it closes the connection (1009)."""
        return self.service.admin.max_message_bytes * 4

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)  # each chunk at once: Nagle would hold small writes ~40 ms
        self.service.listeners.add(self.send_status)
        self.current_completer()
        self.send_status()

    def on_close(self) -> None:
        self.service.listeners.discard(self.send_status)
        for _claim, task in self.inflight.values():
            task.cancel()
        if self.warming is not None:
            self.warming[1].cancel()

    def send(self, message: dict[str, Any] | str) -> bool:
        """Write a message; False once the browser has gone."""
        try:
            self.write_message(message if isinstance(message, str) else json.dumps(message))
        except WebSocketClosedError:
            return False
        return True

    def reply_error(self, error: InlineError, reply_to: int | None = None) -> None:
        info = ErrorInfo.of(error)
        self.send({"type": "error", "reply_to": reply_to, "error": info and info.model_dump()})

    def send_status(self) -> None:
        """The chosen model, llama.cpp's mode and the state of the managed local server
        when it serves the model."""
        assert self.chosen is not None and self.completer is not None
        message = self.service.status(self.chosen, self.source, self.completer.backend)
        budget = self.completer.budget
        message["can_choose_server"] = self.may_choose_server
        message["can_warm"] = self.service.warms(self.chosen)
        message["max_message_bytes"] = self.service.admin.max_message_bytes
        message["context"] = self.context_source
        message["context_budget"] = budget.model_dump(include=BROWSER_BUDGET)
        self.send(message)

    def current_completer(self) -> tuple[InlineCompleter, bool]:
        """The completer of the chosen model, rebuilt when the choice changed (True)."""
        config, self.source = self.service.choose(self.settings, self.client_settings)
        problem = self.service.jupyter_ai_problem
        if problem != self.jupyter_ai_problem:  # told once per connection, not per request
            self.jupyter_ai_problem = problem
            if problem:
                self.reply_error(BadSettings(problem))
        changed = config != self.chosen or self.completer is None
        if changed:
            self.chosen, self.completer = config, self.service.completer(config)
        assert self.completer is not None
        return self.completer, changed

    def on_message(self, message: str | bytes) -> None:
        try:
            self.take(message)
        except Exception:  # whatever it was, the socket stays and the browser hears of it
            self.log.exception("A completions message could not be handled")
            self.reply_error(UNEXPECTED)

    def take(self, message: str | bytes) -> None:
        size = len(message) if isinstance(message, bytes) else len(message.encode())
        limit = self.service.admin.max_message_bytes
        if size > limit:
            self.reply_error(
                MessageTooLarge(f"Message too large ({size:,} bytes; the limit is {limit:,})")
            )
            return
        try:
            parsed = Message.validate_json(message)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.reply_error(
                BadMessage(cut(f"Malformed message: {where}: {first['msg']}", 200)),
                request_number(message),
            )
            return
        if isinstance(parsed, ConfigureMessage):
            self.configure(parsed.settings)
        elif isinstance(parsed, WarmMessage):
            self.start_warm_up(parsed)
        elif isinstance(parsed, CancelMessage):
            if parsed.number in self.inflight:
                self.inflight[parsed.number][0].cancel()
        elif len(self.inflight) >= self.service.admin.max_requests_in_flight:
            self.reply_error(TooManyRequests("Too many requests in flight"), parsed.number)
        elif parsed.number in self.inflight:
            self.reply_error(
                BadMessage(f"Request {parsed.number} is already running"), parsed.number
            )
        else:
            self.start(parsed)

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
        if problems:
            self.reply_error(BadSettings(f"Settings not applied: {'; '.join(problems)}"))
        self.current_completer()
        self.send_status()

    def start_warm_up(self, message: WarmMessage) -> None:
        """Replace this connection's warm-up (the replaced one is answered `superseded`)."""
        if self.warming is not None:
            number, task = self.warming
            if task.cancel():
                self.send_warmed(number, "superseded")
        task = asyncio.create_task(self.warm_up(message))
        self.warming = (message.number, task)

        def forget(_task: asyncio.Task[None]) -> None:
            if self.warming and self.warming[1] is task:
                self.warming = None

        task.add_done_callback(forget)

    async def warm_up(self, message: WarmMessage) -> None:
        started = time.perf_counter()
        skipped = await self.warm(message)
        ms = None if skipped else round((time.perf_counter() - started) * 1000)
        self.send_warmed(message.number, skipped, ms)

    async def warm(self, message: WarmMessage) -> str | None:
        """Why the warm-up did not run to its end, or None. Failures are only logged: a
        warm-up is a bonus, and the next request reports what is wrong."""
        completer, changed = self.current_completer()
        if changed:  # as for a request: the status names the model in use
            self.send_status()
        assert self.chosen is not None
        if not self.service.warms(self.chosen):
            return "unsupported"
        if not self.service.local_model_ready(self.chosen):
            return "starting"
        request = message.completion_request(completer.budget.max_cells)
        try:
            prompt, _source = await notebook_prompt(completer, request, self.settings)
            return await completer.warm(prompt)
        except InlineError as error:
            self.log.debug("Warm-up %s failed: %s", message.number, error.title)
        except Exception:
            self.log.exception("Warm-up %s failed", message.number)
        return "error"

    def send_warmed(self, number: int, skipped: str | None, ms: int | None = None) -> None:
        self.send({"type": "warmed", "reply_to": number, "ms": ms, "skipped": skipped})

    def start(self, message: RequestMessage) -> None:
        completer, changed = self.current_completer()
        if changed:  # e.g. another model was chosen in Jupyter AI's settings
            self.send_status()
        request = message.completion_request(completer.budget.max_cells)
        claim = completer.claim((request.path, request.cell_id))  # supersedes at once
        assert self.chosen is not None
        served = self.serve(self.chosen, completer, request, message.number, claim)
        task = asyncio.create_task(served)
        self.inflight[message.number] = (claim, task)
        task.add_done_callback(lambda _task: self.inflight.pop(message.number, None))

    async def serve(
        self,
        config: ModelConfig,
        completer: InlineCompleter,
        request: CompletionRequest,
        number: int,
        claim: EditorClaim,
    ) -> None:
        """One request, from the local model's start to the last chunk (a superseded one
        ends at once with its `done` chunks); the editor is released however it ends."""

        async def prompt(request: CompletionRequest) -> FimPrompt:
            prompt, source = await notebook_prompt(completer, request, self.settings)
            if source != self.context_source:
                self.context_source = source
                self.send_status()
            return prompt

        with claim:
            try:
                await self.service.wait_for_local_model(config, claim)
                replies = stream_replies(completer, request, number, prompt, claim)
                changes = Deltas()
                async with aclosing(replies):
                    async for reply in replies:
                        if not self.send(changes.of(reply).model_dump_json()):
                            return
            except InlineError as error:  # the local model cannot serve
                self.reply_error(error, number)
            except Exception:
                self.log.exception("Inline completion %s failed", number)
                self.reply_error(
                    ServerError("Unexpected server error: see the Jupyter log"), number
                )
