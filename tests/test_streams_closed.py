"""A pooled client dropped while a stream uses it is closed only once that stream has ended
(issue 19, item 6a)."""

import asyncio

import pytest

from jupyter_ai_inline.engine import BackendSettings, FimPrompt, OllamaBackend, Sampling
from jupyter_ai_inline.engine.http import MAX_CLIENTS, _closing, get_client
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="x = ", suffix="\nprint(x)")


def backend(kind, fake: FakeBackend):
    return kind(BackendSettings(base_url=fake.url, model="m"))


async def test_a_dropped_client_is_closed_once_its_stream_has_ended(fake: FakeBackend) -> None:
    fake.tokens, fake.token_delay = ["tok"] * 20, 0.01
    model = backend(OllamaBackend, fake)
    stream = model.stream(PROMPT, Sampling(max_tokens=100))
    texts = [await anext(stream)]
    used = model.client
    for number in range(MAX_CLIENTS):  # the stream's client is now the least recently used
        get_client(f"http://other{number}", connect_timeout=1, read_timeout=1)
    assert model.client is not used  # a new one for what comes next
    texts += [text async for text in stream]
    assert "".join(texts) == "tok" * 20
    await asyncio.gather(*_closing)
    assert used.is_closed
