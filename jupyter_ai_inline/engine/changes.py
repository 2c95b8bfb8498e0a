"""`Changes`: the one way a state change travels to those who show it (a status bar)."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Changes:
    """Callbacks told that something changed. Subscribe with `subscribe` (it returns the
    unsubscribe function); `emit` calls each, and one that raises is logged, not let
    through, so one broken listener never stops the others."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("A change listener failed")

    def clear(self) -> None:
        self._listeners.clear()

    def __len__(self) -> int:
        return len(self._listeners)
