"""A model server's stream is closed by the block that opened it, at once (issue 19, items 4
and 6a): when the consumer stops, its response is closed before `aclose()` returns, not by
the loop's async-generator finalizer a turn later (after the generation slot was released);
a stream read to its end leaves its connection to the pool; and a pooled client dropped while
a stream uses it is closed only once that stream has ended."""

import asyncio

import pytest

from jupyter_ai_inline.engine import FimPrompt, Sampling
from jupyter_ai_inline.engine.http import MAX_CLIENTS, _closing, get_client
from tests.support.backends import KINDS, backend_on
from tests.support.fake_backend import FakeBackend
from tests.support.pool import busy

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="x = ", suffix="\nprint(x)")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layer", ["stream", "generate"])
async def test_a_stream_the_consumer_closes_is_closed_before_aclose_returns(
    fake: FakeBackend, kind, layer: str
) -> None:
    fake.tokens, fake.token_delay = ["tok"] * 100, 0.01
    model = backend_on(fake, kind)
    stream = getattr(model, layer)(PROMPT, Sampling(max_tokens=100))
    assert await anext(stream) == "tok"
    assert busy(model) == (1, 1)
    await stream.aclose()
    assert busy(model) == (0, 0)  # no loop turn in between
    await fake.wait_until(lambda: fake.disconnects == 1)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_suggestion_that_reaches_max_tokens_leaves_its_connection_to_the_pool(
    fake: FakeBackend, kind
) -> None:
    fake.tokens = ["a", "b", "c", "d"]  # the server stops at n_predict / max_tokens
    model = backend_on(fake, kind)
    for _ in range(3):
        assert [text async for text in model.generate(PROMPT, Sampling(max_tokens=3))] == [
            "a", "b", "c",
        ]  # fmt: skip
        assert busy(model) == (0, 0)
    assert len({request.peer for request in fake.requests}) == 1  # one connection, reused
    assert fake.disconnects == 0


async def test_a_dropped_client_is_closed_once_its_stream_has_ended(fake: FakeBackend) -> None:
    fake.tokens, fake.token_delay = ["tok"] * 20, 0.01
    model = backend_on(fake, "ollama")
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
