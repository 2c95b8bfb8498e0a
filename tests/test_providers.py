"""The Jupyter AI providers called as Jupyter AI calls them, against the fake server."""

import asyncio
import contextvars
import functools

import pytest
from jupyter_ai_magics.models.completion import (
    InlineCompletionReply,
    InlineCompletionStreamChunk,
)

from jupyter_ai_inline.providers import (
    OllamaInlineProvider,
    OpenAIInlineProvider,
)
from tests.support.completion import IN_A_CELL, inline_request
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio


request = functools.partial(inline_request, **IN_A_CELL)


def ollama(fake: FakeBackend, **fields) -> OllamaInlineProvider:
    return OllamaInlineProvider(model_id="coder", base_url=fake.url, **fields)


async def stream(provider, req) -> tuple[InlineCompletionReply, list[InlineCompletionStreamChunk]]:
    replies = [reply async for reply in provider.stream_inline_completions(req)]
    first, chunks = replies[0], replies[1:]
    assert isinstance(first, InlineCompletionReply)
    assert all(isinstance(chunk, InlineCompletionStreamChunk) for chunk in chunks)
    return first, chunks


def check_protocol(first: InlineCompletionReply, chunks, number: int, suggestions: int) -> None:
    """Every token announced once, each ends with exactly one done chunk, last."""
    tokens = [item.token for item in first.list.items]
    assert len(tokens) == len(set(tokens)) == suggestions
    assert all(item.insertText == "" and item.isIncomplete for item in first.list.items)
    assert {chunk.response.token for chunk in chunks} <= set(tokens)
    for token in tokens:
        own = [chunk for chunk in chunks if chunk.response.token == token]
        assert [chunk.done for chunk in own].count(True) == 1 and own[-1].done
    assert all(chunk.reply_to == number for chunk in chunks)


async def test_streams_text_growing_to_the_final_suggestion(fake: FakeBackend) -> None:
    fake.tokens = ["return", " a", " +", " b"]
    first, chunks = await stream(ollama(fake), request(7))
    check_protocol(first, chunks, 7, 1)
    texts = [chunk.response.insertText for chunk in chunks]
    assert texts == ["return", "return a", "return a +", "return a + b", "return a + b"]
    assert [chunk.response.isIncomplete for chunk in chunks][-1] is False


async def test_several_suggestions_run_concurrently_and_differ(fake: FakeBackend) -> None:
    fake.tokens = lambda path, body: [f"x{body['options'].get('seed', 0)}"]
    fake.first_token_delay = 0.2
    first, chunks = await stream(ollama(fake, suggestions=3), request(2))
    generations = fake.generations
    assert len(generations) == 3
    ends = [g.ended_at for g in generations if g.ended_at is not None]
    assert len(ends) == 3
    assert max(g.started for g in generations) < min(ends)  # all three ran at once
    check_protocol(first, chunks, 2, 3)
    finals = sorted(chunk.response.insertText for chunk in chunks if chunk.done)
    assert finals == ["x0", "x1", "x2"]
    temperatures = sorted(r.body["options"]["temperature"] for r in fake.requests)
    assert temperatures[0] == 0.0 and temperatures[1] > 0


async def test_identical_suggestions_are_shown_once(fake: FakeBackend) -> None:
    fake.tokens = ["same"]
    first, chunks = await stream(ollama(fake, suggestions=3), request())
    check_protocol(first, chunks, 1, 3)
    assert sorted(chunk.response.insertText for chunk in chunks if chunk.done) == [
        "",
        "",
        "same",
    ]
    reply = await ollama(fake, suggestions=3).generate_inline_completions(request())
    assert [item.insertText for item in reply.list.items] == ["same"]


async def test_generate_returns_distinct_items(fake: FakeBackend) -> None:
    fake.tokens = lambda path, body: ["a" if body["options"].get("seed", 0) % 2 else "b"]
    reply = await ollama(fake, suggestions=3).generate_inline_completions(request(5))
    assert sorted(item.insertText for item in reply.list.items) == ["a", "b"]
    assert reply.reply_to == 5 and reply.error is None


async def test_a_new_request_for_the_cell_supersedes_the_old_one(fake: FakeBackend) -> None:
    fake.slots = 1
    fake.tokens = ["tok "] * 20
    fake.token_delay = 0.02
    provider = ollama(fake, suggestions=2)
    old = provider.stream_inline_completions(request(1))
    old_first = await anext(old)
    old_chunk = await anext(old)
    assert old_chunk.response.insertText == "tok"
    new_first, new_chunks = await stream(provider, request(2, prefix="x = "))
    old_rest = [chunk async for chunk in old]
    check_protocol(old_first, [old_chunk, *old_rest], 1, 2)
    check_protocol(new_first, new_chunks, 2, 2)
    new_finals = [chunk.response.insertText for chunk in new_chunks if chunk.done]
    assert sorted(new_finals)[-1].startswith("tok tok")
    old_generations = [g for g in fake.generations if g.body["prompt"].startswith("def")]
    assert old_generations[0].disconnected and old_generations[0].tokens_sent < 5
    assert all(g.tokens_sent == 0 for g in old_generations[1:])  # was queued, never ran


GREEDY = contextvars.ContextVar("greedy", default=False)
"""Whether the fake's handler task serves the first (greedy, unseeded) suggestion."""


@pytest.mark.parametrize("greedy_ends", ["first", "last"])
async def test_only_a_later_duplicate_ends_empty(fake: FakeBackend, greedy_ends: str) -> None:
    """Two suggestions with the same text: the second becomes empty when the first ended
    before it, and the first (the ghost text a user sees at first) keeps its text when the
    second ended first."""

    def tokens(path: str, body: dict) -> list[str]:
        GREEDY.set((body.get("options") or {}).get("seed") is None)
        return ["same", " text"]

    pause = fake._pause

    async def greedy_paced(request, seconds):
        slow = GREEDY.get() == (greedy_ends == "last")
        await pause(request, (seconds or 0) + (0.1 if slow else 0))

    fake.tokens, fake._pause = tokens, greedy_paced
    first, chunks = await stream(ollama(fake, suggestions=2), request(1))
    finals = {c.response.token: c.response.insertText for c in chunks if c.done}
    by_index = [finals[item.token] for item in first.list.items]
    assert by_index == (["same text", ""] if greedy_ends == "first" else ["same text"] * 2)


async def test_other_cells_are_not_superseded(fake: FakeBackend) -> None:
    fake.tokens = ["a"] * 3
    fake.token_delay = 0.02
    provider = ollama(fake)
    one = stream(provider, request(1, cell_id="one"))
    two = stream(provider, request(2, cell_id="two"))
    (_, chunks_one), (_, chunks_two) = await asyncio.gather(one, two)
    assert chunks_one[-1].response.insertText == chunks_two[-1].response.insertText == "aaa"
    assert fake.disconnects == 0


async def test_consumer_leaving_closes_the_backend_stream(fake: FakeBackend) -> None:
    fake.tokens = ["tok "] * 100
    fake.token_delay = 0.05
    replies = ollama(fake, suggestions=2).stream_inline_completions(request())
    await anext(replies)
    await anext(replies)
    await replies.aclose()
    await fake.wait_until(lambda: fake.disconnects == 2, timeout=1)
    assert fake.active == 0
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in others if "_pump" in repr(t)]


async def test_single_line_context_stops_the_generation_early(fake: FakeBackend) -> None:
    fake.tokens = ["a, b", "\n", "more"] + ["x"] * 50
    fake.token_delay = 0.02
    first, chunks = await stream(ollama(fake), request(prefix="zip(", suffix=")"))
    assert chunks[-1].response.insertText == "a, b" and chunks[-1].done
    await fake.wait_until(lambda: fake.disconnects == 1, timeout=1)
    assert fake.tokens_generated < 10


@pytest.mark.parametrize(
    ("setup", "kind", "words"),
    [
        ({"fail_status": 404}, "ModelNotFound", "ollama pull coder"),
        ({"fail_status": 401}, "AuthenticationFailed", "API key"),
        ({"malformed": "truncated"}, "BadResponse", "the stream"),
        ({"malformed": "garbage"}, "BadResponse", "not JSON"),
    ],
)
async def test_errors_reach_the_user_as_error_chunks(fake: FakeBackend, setup, kind, words):
    for name, value in setup.items():
        setattr(fake, name, value)
    first, chunks = await stream(ollama(fake, suggestions=2), request(3))
    check_protocol(first, chunks, 3, 2)
    errors = [chunk.error for chunk in chunks if chunk.done]
    assert all(e is not None and e.type == kind and words in e.title for e in errors)
    reply = await ollama(fake).generate_inline_completions(request(4))
    assert reply.error.type == kind and reply.list.items == []


async def test_server_down_and_timeouts_are_error_chunks(fake, unused_tcp_port) -> None:
    down = OllamaInlineProvider(model_id="coder", base_url=f"http://127.0.0.1:{unused_tcp_port}")
    _, chunks = await stream(down, request())
    assert chunks[-1].error.type == "BackendUnavailable"
    fake.hang = True
    slow = ollama(fake)
    slow.completer.backend.settings.read_timeout = 0.3
    _, chunks = await stream(slow, request())
    assert chunks[-1].error.type == "BackendTimeout" and chunks[-1].done


async def test_the_api_key_field_is_sent_and_never_shown(fake) -> None:
    secret = "sk-live-abcdef0123456789"
    fake.fail_status = 401
    fake.fail_body = {"error": {"message": f"Incorrect API key provided: {secret[:12]}"}}
    provider = OpenAIInlineProvider(
        model_id="gpt-3.5-turbo-instruct", base_url=f"{fake.url}/v1", api_key=secret
    )
    _, chunks = await stream(provider, request())
    assert fake.requests[0].headers["authorization"] == f"Bearer {secret}"
    assert secret[:8] not in chunks[-1].model_dump_json()  # not even the part the server cut
    assert secret not in repr(provider)


async def test_the_environment_key_goes_to_openai_only(fake, monkeypatch) -> None:
    """$OPENAI_API_KEY is a key for OpenAI's API: a base URL set in Jupyter AI's settings
    (which a browser user may change) gets it only through Jupyter AI's own key field."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-abcdef0123456789")
    provider = OpenAIInlineProvider(model_id="gpt-3.5-turbo-instruct", base_url=f"{fake.url}/v1")
    await stream(provider, request())
    assert "authorization" not in fake.requests[0].headers
    default = OpenAIInlineProvider(model_id="gpt-3.5-turbo-instruct")
    assert default.config.api_key.get_secret_value() == "sk-env-abcdef0123456789"
    assert default.config.base_url == "https://api.openai.com/v1"


async def test_unicode_empty_and_huge_cells(fake: FakeBackend) -> None:
    fake.tokens = ["π", " → ", "✓"]
    _, chunks = await stream(ollama(fake), request(prefix="", suffix=""))
    assert chunks[-1].response.insertText == "π → ✓"
    huge = "x = 1\n" * 200_000
    _, chunks = await stream(ollama(fake), request(prefix=huge, suffix=huge))
    assert chunks[-1].error is None
    body = fake.requests[-1].body
    assert huge.endswith(body["prompt"]) and 1000 < len(body["prompt"]) <= 12_000
    assert huge.startswith(body["suffix"]) and 1000 < len(body["suffix"]) <= 4_000


async def test_also_a_langchain_llm(fake: FakeBackend) -> None:
    fake.tokens = ["Hello", " world"]
    provider = ollama(fake)
    assert await provider.ainvoke("Say hi") == "Hello world"
    assert fake.requests[-1].body["prompt"] == "Say hi"
    assert [chunk async for chunk in provider.astream("Say hi")] == ["Hello", " world"]


async def test_a_request_cancelled_before_it_streams_never_reaches_the_backend(
    fake: FakeBackend,
) -> None:
    provider = ollama(fake, suggestions=2)
    suggestion = provider.suggestion(request(9))
    replies = suggestion.replies()
    first = await anext(replies)
    suggestion.cancel()  # e.g. the user pressed Escape as the prompt went to the model
    chunks = [chunk async for chunk in replies]
    assert len(first.list.items) == 2
    assert [(c.done, c.response.insertText) for c in chunks] == [(True, ""), (True, "")]
    assert fake.requests == []


async def test_jupyter_ai_requests_share_our_server_limits(fake, monkeypatch) -> None:
    """With our extension in the server, its generation limit and deadlines apply to
    Jupyter AI's requests too."""
    from jupyter_ai_inline.engine.limits import GenerationLimit
    from jupyter_ai_inline.server.choice import AdminSettings
    from jupyter_ai_inline.server.service import SETTINGS_KEY, CompletionService

    admin = AdminSettings(first_text_timeout=0.5, stall_timeout=0.5)
    service = CompletionService(admin, GenerationLimit(1, wait=0.05))
    monkeypatch.setattr(OllamaInlineProvider, "server_settings", {SETTINGS_KEY: service})
    fake.hang = True
    waiting = asyncio.create_task(stream(ollama(fake), request(1)))
    await fake.wait_until(lambda: fake.active == 1)
    _, refused = await stream(ollama(fake), request(2, cell_id="cell-2"))
    assert refused[-1].error.type == "ServerBusy"
    _, timed_out = await waiting
    assert timed_out[-1].error.type == "BackendTimeout"
    assert "first-text deadline" in timed_out[-1].error.title


async def test_the_completer_follows_a_model_server_that_moved(fake: FakeBackend) -> None:
    """E.g. the managed model restarted on another port: the next request goes there."""
    provider = ollama(fake)
    first = provider.completer
    assert provider.completer is first  # kept while nothing changed: it supersedes requests
    provider.base_url = "http://127.0.0.1:9"
    assert provider.completer.backend.base_url == "http://127.0.0.1:9"
