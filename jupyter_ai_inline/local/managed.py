"""The managed local model as a host uses it: `llama-server` started in the background (the
host serves at once), waited for by requests while it starts, stopped with the host; its state
changes told by `changes` (the supervisor's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..engine.errors import LocalModelUnavailable
from .supervisor import STARTING, LocalLlamaServer

READY_POLL_SECONDS = 0.05


class ManagedModel:
    """One supervised `llama-server` on a port chosen up front, so its URL is known (and
    can be handed out) while it is still starting. Unless the port was given, the supervisor
    takes another one if something else listens on it when it spawns the server; `base_url`
    is then the new one by the time the state becomes `ready`."""

    def __init__(
        self, server: LocalLlamaServer, log: logging.Logger, wait_seconds: float = 60.0
    ) -> None:
        server.choose_port()
        self.server = server
        self.log = log
        self.wait_seconds = wait_seconds
        """How long a request waits for a starting server before it gets an error."""
        self.changes = server.changes
        """Told when the state changed (the completion service subscribes)."""
        self._task: asyncio.Task[None] | None = None
        self.default_model = server.model
        """The administrator's choice (`local_model`), taken when the user names none."""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def model_name(self) -> str:
        return self.server.model_name

    @property
    def context_budget(self) -> tuple[int, int] | None:
        """Characters of other cells (above, below) that the running model's cold prompt
        takes within the ladder's time budget; None: the default (or not known yet)."""
        return self.server.context_budget if self.ready else None

    @property
    def state(self) -> str:
        """The server's state, `starting` from the moment `start()` was called."""
        switching = self.server.state in ("stopped", "stopping")
        if switching and self._task is not None and not self._task.done():
            return "starting"
        return self.server.state

    @property
    def ready(self) -> bool:
        return self.server.state == "ready"

    def start(self) -> None:
        """Start in the background: Jupyter serves at once, the status says "starting"."""
        self._task = asyncio.create_task(self._start(), name="local model start")

    async def _start(self) -> None:
        try:
            await self.server.start()
        except LocalModelUnavailable as exc:
            self.log.error("The local model cannot run: %s", exc)
            return
        except Exception:
            self.log.exception("The local model cannot run")
            return
        self.log.info("Local model %s ready at %s", self.model_name, self.base_url)

    def use(self, name: str | None) -> bool:
        """Run the catalog model `name` (None: the administrator's choice) from now on:
        restarted in the background if another one runs. Whether it restarts. A model file
        the administrator gave (`local_model_path`) is never replaced."""
        wanted = name or self.default_model
        if self.server.fixed_model or wanted == self.server.model or self._task is None:
            return False
        self.log.info("Switching the local model to %s, as the user's settings say", wanted)
        previous = self._task
        self._task = asyncio.create_task(self._switch(previous, wanted), name="local model switch")
        return True

    async def _switch(self, previous: asyncio.Task[None], name: str) -> None:
        previous.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await previous
        await self.server.stop()
        self.server.model, self.server.model_path = name, None
        await self._start()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.server.stop()

    async def wait_ready(self, cancelled: Callable[[], bool]) -> None:
        """Wait until the server can answer, or until `cancelled()`. Raises `LocalModelUnavailable`
        (one readable line) if it failed or is still starting after `wait_seconds`."""
        loop = asyncio.get_running_loop()
        timeout = self.wait_seconds
        deadline = loop.time() + timeout
        while not self.ready:
            if cancelled():
                return
            if self.state in ("failed", "stopped", "stopping"):
                raise LocalModelUnavailable(self.server.status_line)
            if loop.time() >= deadline:
                raise LocalModelUnavailable(
                    f"The local model is still starting after {timeout:g} s: see the Jupyter log"
                )
            await asyncio.sleep(READY_POLL_SECONDS)

    def summary(self) -> dict[str, Any]:
        """The `local` part of a status message: state and one line for the status bar."""
        state = self.state
        message = STARTING if state == "starting" else self.server.status_line
        return {"state": state, "message": message}
