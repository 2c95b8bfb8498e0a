"""The completions websocket: one per browser tab. It authenticates, bounds and parses the
tab's messages and hands each to the tab's `CompletionSession`."""

from __future__ import annotations

import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from pydantic import ValidationError
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..engine.errors import BadMessage, InlineError, MessageTooLarge, cut
from .messages import Message, first_problem, request_number
from .service import CompletionService
from .session import UNEXPECTED, CompletionSession


class CompletionsHandler(JupyterHandler, WebSocketHandler):
    """Requests in, streamed replies out; `cancel` and newer requests stop older ones."""

    auth_resource = "contents"
    choose_permission = ("execute", "kernels")
    """Choosing the model server (backend, base URL, model) makes this server send requests
    where the browser says: allowed to those who may run code here anyway."""

    def initialize(self, service: CompletionService) -> None:
        self.service = service
        self.may_choose_server = False
        self.session: CompletionSession | None = None

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
        self.session = CompletionSession(
            self.service,
            self.settings,
            self.send,
            may_choose_server=self.may_choose_server,
            log=self.log,
        )

    def on_close(self) -> None:
        if self.session is not None:
            self.session.close()

    def send(self, message: dict[str, Any] | str) -> bool:
        """Write a message; False once the browser has gone."""
        try:
            self.write_message(message if isinstance(message, str) else json.dumps(message))
        except WebSocketClosedError:
            return False
        return True

    def reply_error(self, error: InlineError, reply_to: int | None = None) -> None:
        assert self.session is not None  # messages arrive only once the socket is open
        self.session.reply_error(error, reply_to)

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
            self.reply_error(
                BadMessage(cut(f"Malformed message: {first_problem(error)}", 200)),
                request_number(message),
            )
            return
        assert self.session is not None
        self.session.handle(parsed)
