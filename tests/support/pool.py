"""What an engine backend's pooled HTTP client holds."""

from __future__ import annotations

from jupyter_ai_inline.engine.backends import Backend


def busy(backend: Backend) -> tuple[int, int]:
    """Connections the backend's pool counts as busy, and requests it counts as running."""
    pool = backend.client._transport._pool
    connections = [c for c in pool.connections if not c.is_idle() and not c.is_closed()]
    return len(connections), len(pool._requests)
