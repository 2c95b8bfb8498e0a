"""A backend of each kind on the fake model server."""

from __future__ import annotations

from typing import Any

from jupyter_ai_inline.engine import Backend, BackendSettings
from jupyter_ai_inline.engine.backends import BACKENDS
from tests.support.fake_backend import FakeBackend

KINDS = list(BACKENDS)
"""The backends' names, for `pytest.mark.parametrize`."""


def backend_on(fake: FakeBackend, kind: str, **settings: Any) -> Backend:
    """A `kind` backend talking to `fake` (OpenAI's API under `/v1`); model `m` unless given."""
    url = f"{fake.url}/v1" if kind == "openai" else fake.url
    return BACKENDS[kind](BackendSettings(base_url=url, **{"model": "m", **settings}))
