"""Each backend against the fake server: what it sends and what it streams back."""

import pytest

from jupyter_ai_inline.engine import (
    AuthenticationFailed,
    BackendError,
    BackendSettings,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    FimPrompt,
    LlamaCppBackend,
    ModelNotFound,
    OllamaBackend,
    OpenAIBackend,
    Sampling,
)
from jupyter_ai_inline.engine.backends import BACKENDS
from jupyter_ai_inline.engine.backends.openai import _chat_only
from tests.support.backends import KINDS, backend_on
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(
    prefix="def add(a, b):\n    ",
    suffix="\n\nprint(add(1, 2))",
    above=("import math",),
    below=("add(3, 4)",),
    filename="analysis.ipynb",
)
GREEDY = Sampling(max_tokens=16)
SECRET = "sk-test-1234567890abcdef"


def backend(kind, url: str, **settings):
    settings.setdefault("model", "coder")
    return kind(BackendSettings(base_url=url, **settings))


async def collect(backend_, prompt=PROMPT, sampling=GREEDY) -> str:
    return "".join([text async for text in backend_.stream(prompt, sampling)])


@pytest.fixture(autouse=True)
def forget_chat_fallbacks():
    _chat_only.clear()


async def test_ollama_sends_native_fim_and_streams_ndjson(fake: FakeBackend) -> None:
    fake.tokens = ["return ", "a + b"]
    sampling = Sampling(max_tokens=7, temperature=0.4, seed=3, stop=("\n\n",))
    assert await collect(backend(OllamaBackend, fake.url), sampling=sampling) == "return a + b"
    body = fake.requests[-1].body
    assert fake.requests[-1].path == "/api/generate"
    assert body["model"] == "coder" and body["stream"] is True
    assert body["prompt"] == "import math\n\ndef add(a, b):\n    "
    assert body["suffix"] == "\n\nprint(add(1, 2))\n\nadd(3, 4)"
    assert body["options"] == {"num_predict": 7, "temperature": 0.4, "seed": 3, "stop": ["\n\n"]}
    assert "raw" not in body


async def test_ollama_without_suffix_sends_a_raw_prompt(fake: FakeBackend) -> None:
    await collect(backend(OllamaBackend, fake.url), FimPrompt(prefix="x = ", suffix=""))
    assert fake.requests[-1].body["raw"] is True
    assert "suffix" not in fake.requests[-1].body


async def test_ollama_unknown_model_says_how_to_get_it(fake: FakeBackend) -> None:
    fake.known_models = {"other"}
    with pytest.raises(ModelNotFound) as caught:
        await collect(backend(OllamaBackend, fake.url, model="qwen2.5-coder:1.5b"))
    assert "ollama pull qwen2.5-coder:1.5b" in caught.value.title


async def test_llamacpp_sends_other_cells_as_input_extra(fake: FakeBackend) -> None:
    fake.tokens = ["return", " a + b"]
    assert await collect(backend(LlamaCppBackend, fake.url)) == "return a + b"
    request = fake.requests[-1]
    assert request.path == "/infill"
    assert request.body["input_prefix"] == PROMPT.prefix
    assert request.body["input_suffix"] == "\n\nprint(add(1, 2))\n\nadd(3, 4)"
    assert request.body["input_extra"] == [
        {"filename": "analysis.ipynb [1]", "text": "import math"}
    ]
    assert request.body["n_predict"] == 16 and request.body["cache_prompt"] is True
    assert request.body["stream"] is True and request.body["t_max_predict_ms"] > 0


async def test_llamacpp_without_fim_tokens_continues_the_prefix(fake: FakeBackend) -> None:
    fake.llamacpp_fim = False
    llama = backend(LlamaCppBackend, fake.url)
    assert await collect(llama) == "abc"
    assert await collect(llama) == "abc"
    assert [r.path for r in fake.requests] == ["/infill", "/completion", "/completion"]
    assert fake.requests[-1].body["prompt"] == PROMPT.full_prefix
    assert fake.requests[-1].body["stop"] == ["\n\n"]  # blind to the suffix: one block


async def test_openai_completions_with_suffix_and_key(fake: FakeBackend) -> None:
    fake.tokens = ["return", " a + b"]
    openai = backend(OpenAIBackend, f"{fake.url}/v1", api_key=SECRET)
    assert await collect(openai) == "return a + b"
    request = fake.requests[-1]
    assert request.path == "/v1/completions"
    assert request.body["prompt"] == PROMPT.full_prefix
    assert request.body["suffix"] == PROMPT.full_suffix
    assert request.body["max_tokens"] == 16 and request.body["model"] == "coder"
    assert request.headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("setting", ["openai_reject_suffix", "openai_no_completions"])
async def test_openai_falls_back_to_chat_and_remembers(fake: FakeBackend, setting: str) -> None:
    setattr(fake, setting, True)
    openai = backend(OpenAIBackend, f"{fake.url}/v1")
    assert await collect(openai) == "abc"
    assert await collect(openai) == "abc"
    paths = [r.path for r in fake.requests]
    assert paths == ["/v1/completions", "/v1/chat/completions", "/v1/chat/completions"]
    user = fake.requests[-1].body["messages"][-1]["content"]
    assert user == f"{PROMPT.full_prefix}<CURSOR>{PROMPT.full_suffix}"


async def test_server_down_is_a_readable_error(unused_tcp_port: int) -> None:
    with pytest.raises(BackendUnavailable) as caught:
        await collect(backend(OllamaBackend, f"http://127.0.0.1:{unused_tcp_port}"))
    assert "is the server running" in caught.value.title


@pytest.mark.parametrize("kind", KINDS)
async def test_credentials_in_the_url_never_reach_an_error(unused_tcp_port: int, kind) -> None:
    url = f"http://user:s3cret@127.0.0.1:{unused_tcp_port}"
    with pytest.raises(BackendUnavailable) as caught:
        await collect(backend(BACKENDS[kind], url))
    error = caught.value
    assert f"http://***@127.0.0.1:{unused_tcp_port}" in error.title
    shown = f"{error.title} {error.detail} {error!r}"
    assert "s3cret" not in shown and "user:" not in shown


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_key_never_shows_the_key(fake: FakeBackend, status: int) -> None:
    fake.fail_status = status
    fake.fail_body = {"error": {"message": f"Incorrect API key provided: {SECRET}"}}
    with pytest.raises(AuthenticationFailed) as caught:
        await collect(backend(OpenAIBackend, f"{fake.url}/v1", api_key=SECRET))
    error = caught.value
    assert "API key" in error.title
    assert SECRET not in f"{error.title} {error.detail} {error!r}"


async def test_server_error_status_is_reported_with_its_message(fake: FakeBackend) -> None:
    fake.fail_status = 500
    fake.fail_body = {"error": "out of memory"}
    with pytest.raises(BackendError, match="500: out of memory"):
        await collect(backend(OllamaBackend, fake.url))


async def test_silent_server_times_out(fake: FakeBackend) -> None:
    fake.hang = True
    with pytest.raises(BackendTimeout):
        await collect(backend(LlamaCppBackend, fake.url, read_timeout=0.3))
    await fake.wait_until(lambda: fake.disconnects == 1, timeout=2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("malformed", ["garbage", "truncated"])
async def test_malformed_streams_are_bad_responses(fake: FakeBackend, kind, malformed) -> None:
    fake.malformed = malformed
    with pytest.raises(BadResponse):
        await collect(backend_on(fake, kind, model="coder"))


async def test_closing_the_stream_stops_the_generation(fake: FakeBackend) -> None:
    fake.tokens = ["tok"] * 100
    fake.token_delay = 0.05
    stream = backend(OllamaBackend, fake.url).stream(PROMPT, GREEDY)
    assert await anext(stream) == "tok"
    await stream.aclose()
    await fake.wait_until(lambda: fake.disconnects == 1, timeout=1)
    assert fake.generations[0].tokens_sent < 5


@pytest.mark.parametrize("kind", KINDS)
async def test_finished_streams_leave_the_connection_for_reuse(fake: FakeBackend, kind) -> None:
    client = backend_on(fake, kind, model="coder")
    for _ in range(3):
        assert await collect(client) == "abc"
    assert len({request.peer for request in fake.requests}) == 1


async def test_a_connection_closed_before_answering_is_retried_once(fake: FakeBackend) -> None:
    fake.drop_requests = 1
    assert await collect(backend(LlamaCppBackend, fake.url)) == "abc"
    assert len(fake.requests) == 2 and len(fake.generations) == 1
    fake.drop_requests = 2
    with pytest.raises(BadResponse):
        await collect(backend(LlamaCppBackend, fake.url))


async def test_props_survive_a_connection_closed_before_answering(fake: FakeBackend) -> None:
    fake.drop_requests = 1
    info = await backend(LlamaCppBackend, fake.url).describe()
    assert info["total_slots"] == 1 and info["model_path"] == "/models/fake.gguf"
    assert fake.drop_requests == 0  # the first /props was dropped, the second answered
