"""The completions websocket: one per browser tab, a thin layer over the engine."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import TYPE_CHECKING, Annotated, Any, Literal

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..engine import CompletionRequest, InlineCompleter
from ..engine.backends.llamacpp import LlamaCppBackend, Mode
from ..engine.completer import Run
from ..engine.config import ModelConfig
from ..engine.errors import cut
from ..engine.protocol import Deltas, stream_replies
from ..notebook_context import notebook_prompt
from .local_model import LocalModelError
from .model import ClientSettings, Source, choose_model, is_local, status

if TYPE_CHECKING:
    from .app import JupyterAIInline


class RequestMessage(BaseModel):
    type: Literal["request"]
    number: int
    prefix: str
    suffix: str = ""
    mime: Annotated[str | None, Field(max_length=256)] = None
    path: Annotated[str | None, Field(max_length=4096)] = None
    cell_id: Annotated[str | None, Field(max_length=256)] = None
    language: Annotated[str | None, Field(max_length=256)] = None


class CancelMessage(BaseModel):
    type: Literal["cancel"]
    number: int


class ConfigureMessage(BaseModel):
    type: Literal["configure"]
    settings: dict[str, Any]
    """Checked field by field (`ClientSettings.parse`): a bad field is reported and left out."""


Message = TypeAdapter(
    Annotated[RequestMessage | CancelMessage | ConfigureMessage, Field(discriminator="type")]
)


class CompletionsHandler(JupyterHandler, WebSocketHandler):
    """Requests in, streamed replies out; `cancel` and newer requests stop older ones."""

    auth_resource = "contents"
    choose_permission = ("execute", "kernels")
    """Choosing the model server (backend, base URL, model) makes this server send requests
    where the browser says: allowed to those who may run code here anyway."""

    def initialize(self, app: JupyterAIInline) -> None:
        self.app = app
        self.may_choose_server = False
        self.client_settings = ClientSettings()
        self.chosen: ModelConfig | None = None
        self.source: Source = "settings"
        self.completer: InlineCompleter | None = None
        self.inflight: dict[int, tuple[Run, asyncio.Task[None]]] = {}
        self.mode_probe: asyncio.Task[None] | None = None
        self.probed: LlamaCppBackend | None = None

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
        return self.app.max_message_bytes * 4

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)  # each chunk at once: Nagle would hold small writes ~40 ms
        if self.app.local is not None:
            self.app.local.listeners.add(self.send_status)
        self.current_completer()
        self.send_status()

    def on_close(self) -> None:
        if self.app.local is not None:
            self.app.local.listeners.discard(self.send_status)
        if self.mode_probe is not None:
            self.mode_probe.cancel()
        for _run, task in self.inflight.values():
            task.cancel()

    def send(self, message: dict[str, Any] | str) -> bool:
        """Write a message; False once the browser has gone."""
        try:
            self.write_message(message if isinstance(message, str) else json.dumps(message))
        except WebSocketClosedError:
            return False
        return True

    def reply_error(
        self, title: str, reply_to: int | None = None, kind: str = "BadMessage"
    ) -> None:
        error = {"type": kind, "title": title, "traceback": ""}
        self.send({"type": "error", "reply_to": reply_to, "error": error})

    def send_status(self) -> None:
        """The chosen model, llama.cpp's mode and the state of the managed local server
        when it serves the model."""
        assert self.chosen is not None
        local = self.app.local if is_local(self.app, self.chosen) else None
        mode = self.llama_mode(local is None or local.ready)
        message = status(self.chosen, self.source, mode, local and local.status())
        message["can_choose_server"] = self.may_choose_server
        message["max_message_bytes"] = self.app.max_message_bytes
        self.send(message)

    def llama_mode(self, reachable: bool) -> Mode | None:
        """llama.cpp's mode; while unknown, learn it in the background (then a new status)."""
        assert self.completer is not None
        backend = self.completer.backend
        if not isinstance(backend, LlamaCppBackend):
            return None
        probing = self.mode_probe is not None and not self.mode_probe.done()
        if backend.mode is None and reachable and not (probing and self.probed is backend):
            if self.mode_probe is not None:
                self.mode_probe.cancel()  # of a completer replaced meanwhile
            self.probed = backend
            self.mode_probe = asyncio.create_task(self.probe_mode(backend))
        return backend.mode

    async def probe_mode(self, backend: LlamaCppBackend) -> None:
        try:
            mode = await backend.detect_mode()
        except Exception:  # the status simply shows no mode
            self.log.debug("Could not learn llama.cpp's mode", exc_info=True)
            return
        if mode is not None and self.completer is not None and backend is self.completer.backend:
            self.send_status()

    def current_completer(self) -> tuple[InlineCompleter, bool]:
        """The completer of the chosen model, rebuilt when the choice changed (True)."""
        config, self.source = choose_model(self.app, self.settings, self.client_settings)
        changed = config != self.chosen or self.completer is None
        if changed:
            self.chosen, self.completer = config, config.completer(self.app.generation_limit)
            local = self.app.local
            backend = self.completer.backend
            if local and local.mode and is_local(self.app, config):
                assert isinstance(backend, LlamaCppBackend)
                backend.has_infill = local.mode == "infill"  # known: no probe needed
        assert self.completer is not None
        return self.completer, changed

    def on_message(self, message: str | bytes) -> None:
        try:
            self.take(message)
        except Exception:  # whatever it was, the socket stays and the browser hears of it
            self.log.exception("A completions message could not be handled")
            self.reply_error("Unexpected server error: see the Jupyter log", kind="ServerError")

    def take(self, message: str | bytes) -> None:
        size = len(message) if isinstance(message, bytes) else len(message.encode())
        if size > self.app.max_message_bytes:
            limit = self.app.max_message_bytes
            title = f"Message too large ({size:,} bytes; the limit is {limit:,})"
            self.reply_error(title, kind="MessageTooLarge")
            return
        try:
            parsed = Message.validate_json(message)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.reply_error(cut(f"Malformed message: {where}: {first['msg']}", 200))
            return
        if isinstance(parsed, ConfigureMessage):
            self.configure(parsed.settings)
        elif isinstance(parsed, CancelMessage):
            if parsed.number in self.inflight:
                self.inflight[parsed.number][0].cancel()
        elif len(self.inflight) >= self.app.max_requests_in_flight:
            self.reply_error("Too many requests in flight", parsed.number, "TooManyRequests")
        elif parsed.number in self.inflight:
            self.reply_error(f"Request {parsed.number} is already running", parsed.number)
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
            self.reply_error(f"Settings not applied: {'; '.join(problems)}", kind="BadSettings")
        self.current_completer()
        self.send_status()

    def start(self, message: RequestMessage) -> None:
        completer, changed = self.current_completer()
        if changed:  # e.g. another model was chosen in Jupyter AI's settings
            self.send_status()
        request = CompletionRequest.model_validate(message, from_attributes=True)
        run = completer.start((request.path, request.cell_id))
        task = asyncio.create_task(self.serve(completer, request, message.number, run))
        self.inflight[message.number] = (run, task)
        task.add_done_callback(lambda _task: self.inflight.pop(message.number, None))

    async def serve(
        self, completer: InlineCompleter, request: CompletionRequest, number: int, run: Run
    ) -> None:
        async def prompt(request: CompletionRequest):
            return await notebook_prompt(completer, request, self.settings)

        local = self.app.local
        if local is not None and not local.ready and is_local(self.app, self.chosen):
            try:  # a request cancelled meanwhile goes on and ends at once
                await local.wait_ready(lambda: run.cancelled)
            except LocalModelError as error:
                completer.release((request.path, request.cell_id), run)
                self.reply_error(str(error), number, error.kind)
                return
        try:
            replies = stream_replies(completer, request, number, prompt, run)
            changes = Deltas()
            async with aclosing(replies):
                async for reply in replies:
                    if not self.send(changes.of(reply).model_dump_json()):
                        return
        except Exception:
            self.log.exception("Inline completion %s failed", number)
            self.reply_error("Unexpected server error: see the Jupyter log", number, "ServerError")
