"""What a hostile, faulty or slow model server can do to us: never leak the key, never make
a title of a page, never stream without end, never keep the user waiting past a deadline."""

import asyncio

import pytest

from jupyter_ai_inline.engine import (
    Backend,
    BackendError,
    BackendTimeout,
    BadResponse,
    FimPrompt,
    Sampling,
)
from jupyter_ai_inline.engine.errors import BackendBusy, ServerBusy, redact, server_text
from jupyter_ai_inline.engine.limits import GenerationLimit
from tests.support.backends import backend_on
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio

SECRET = "sk-probe-SECRET0123456789abcdef"
PROMPT = FimPrompt(prefix="x = ", suffix="")


def openai(fake: FakeBackend, **settings) -> Backend:
    return backend_on(fake, "openai", api_key=SECRET, **settings)


async def generate(backend_, max_tokens: int = 16) -> str:
    pieces = backend_.generate(PROMPT, Sampling(max_tokens=max_tokens))
    return "".join([text async for text in pieces])


def assert_no_piece_of_the_key(*texts: str) -> None:
    text = " ".join(texts)
    for size in (6, 10, len(SECRET)):
        assert SECRET[:size] not in text and SECRET[-size:] not in text, text


@pytest.mark.parametrize("padding", [150, 170, 185, 195])
async def test_a_key_across_the_cut_shows_no_part(fake: FakeBackend, padding: int) -> None:
    """The server echoes our header; wherever its text is cut, no piece of the key shows."""
    fake.fail_status = 500
    fake.fail_body = {"error": "x" * padding + f" Authorization: Bearer {SECRET} rejected"}
    with pytest.raises(BackendError) as caught:
        await generate(openai(fake))
    assert_no_piece_of_the_key(caught.value.title, caught.value.detail)
    assert "Bearer ***" in caught.value.detail or caught.value.detail.endswith("…")


async def test_an_error_inside_a_200_stream_is_redacted(fake: FakeBackend) -> None:
    fake.stream_error = f"invalid credentials: Bearer {SECRET[:14]}"
    with pytest.raises(BackendError) as caught:
        await generate(openai(fake))
    assert "invalid credentials" in caught.value.title
    assert_no_piece_of_the_key(caught.value.title, caught.value.detail)


async def test_json_errors_quote_no_key(fake: FakeBackend) -> None:
    fake.malformed = "garbage"
    fake.tokens = [f"api_key={SECRET}"]
    with pytest.raises(BadResponse) as caught:
        await generate(openai(fake))
    assert "not JSON" in caught.value.title
    assert_no_piece_of_the_key(caught.value.title)


def test_credentials_are_redacted_even_when_unknown() -> None:
    text = redact("Authorization: Bearer abc.def-123, api_key='zzzzzz', sk-other-0123456789")
    assert text == "Authorization: Bearer ***, api_key='***', ***"
    assert redact("max_tokens: 5000 tokens per minute") == "max_tokens: 5000 tokens per minute"


async def test_an_html_error_page_becomes_one_line(fake: FakeBackend) -> None:
    fake.fail_status = 502
    fake.fail_body = (
        "<!DOCTYPE html>\n<html><head><title>502 Bad\n  Gateway</title>"
        "<style>body { color: red }</style></head>\n<body><h1>Bad Gateway</h1>\n"
        "<p>nginx</p></body></html>"
    )
    with pytest.raises(BackendError) as caught:
        await generate(backend_on(fake, "ollama"))
    assert caught.value.title == "Ollama answered 502: 502 Bad Gateway"
    assert server_text("<p>a\n<b>b</b></p>") == "a b"


async def test_no_first_text_before_the_deadline(fake: FakeBackend) -> None:
    fake.hang = True  # headers, then nothing
    backend_ = backend_on(fake, "llamacpp", first_text_timeout=0.3)
    with pytest.raises(BackendTimeout, match="no text within 0.3 s .first-text deadline"):
        await generate(backend_)
    await fake.wait_until(lambda: fake.disconnects == 1, timeout=2)


async def test_a_first_text_deadline_beyond_the_read_timeout_is_waited_for(
    fake: FakeBackend,
) -> None:
    fake.first_token_delay = 0.6  # a long cold prompt, within the deadline
    backend_ = backend_on(fake, "llamacpp", first_text_timeout=2.0, read_timeout=0.3)
    assert await generate(backend_)


async def test_a_stall_after_the_first_text(fake: FakeBackend) -> None:
    fake.tokens = ["a", "b"]
    fake.token_delay = 3.0
    backend_ = backend_on(fake, "ollama", stall_timeout=0.3)
    pieces = backend_.generate(PROMPT, Sampling(max_tokens=8))
    assert await anext(pieces) == "a"
    with pytest.raises(BackendTimeout, match="stalled: nothing for 0.3 s"):
        await anext(pieces)
    await fake.wait_until(lambda: fake.disconnects == 1, timeout=2)


async def test_a_server_ignoring_max_tokens_is_cut_at_it(fake: FakeBackend) -> None:
    fake.ignore_limits = True
    fake.tokens = ["tok "] * 10_000
    fake.token_delay = 0.002
    text = await generate(backend_on(fake, "ollama"), 8)
    assert text == "tok " * 8
    await fake.wait_until(lambda: fake.generations[0].ended_at is not None, timeout=2)
    assert fake.generations[0].tokens_sent < 100  # we closed the stream, it stopped


async def test_huge_pieces_are_cut_and_an_endless_line_is_refused(fake: FakeBackend) -> None:
    fake.tokens = ["y" * 5000, "z"]
    text = await generate(backend_on(fake, "ollama"), 2)
    assert text == "y" * 128  # 64 characters per allowed token
    fake.tokens = ["w" * 3_000_000]
    with pytest.raises(BadResponse, match="more than 1,048,576 bytes"):
        await generate(backend_on(fake, "ollama"))


@pytest.mark.parametrize("status", [429, 503])
async def test_an_overloaded_server_says_busy(fake: FakeBackend, status: int) -> None:
    fake.fail_status = status
    with pytest.raises(BackendBusy, match=f"is busy .{status}."):
        await generate(openai(fake))


async def test_the_generation_limit_blames_this_server_not_the_model() -> None:
    limit = GenerationLimit(2, wait=0.05)
    async with limit.slot(), limit.slot():
        assert limit.running == 2
        with pytest.raises(ServerBusy, match="already generating 2 suggestions"):
            async with limit.slot():
                pass
    assert limit.running == 0
    async with asyncio.timeout(1), limit.slot():
        pass


async def test_messages_without_text_show_the_server_is_alive(fake: FakeBackend) -> None:
    """A model emitting pieces of a character (llama.cpp sends empty content until the
    character is whole) is slow, not stalled."""
    fake.tokens = ["a", *[""] * 6, "b"]
    fake.token_delay = 0.1
    backend_ = backend_on(fake, "llamacpp", stall_timeout=0.3)
    assert await generate(backend_) == "ab"  # 0.7 s without text, never 0.3 s without a message
