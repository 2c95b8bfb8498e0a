"""Wire formats, checked without a socket: each backend with an injected `httpx.AsyncClient`
on a `MockTransport` that records what was sent and answers like the real server."""

import asyncio
import json

import httpx
import pytest

from jupyter_ai_inline.engine import (
    BackendSettings,
    FimPrompt,
    LlamaCppBackend,
    OllamaBackend,
    OpenAIBackend,
    Sampling,
)
from jupyter_ai_inline.engine.backends import openai as openai_module
from tests.support.mock_transport import EVENT_STREAM, mock, sse

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="def f(", suffix=")\n", above=("import os",), filename="n.ipynb")


async def text_of(backend) -> str:
    pieces = backend.generate(PROMPT, Sampling(max_tokens=8))
    return "".join([piece async for piece in pieces])


async def test_llamacpp_infill_body_and_sse() -> None:
    body = sse({"content": "x"}, {"content": ", y", "stop": True})
    client, sent = mock(lambda r: httpx.Response(200, headers=EVENT_STREAM, content=body))
    backend = LlamaCppBackend(BackendSettings(base_url="http://l", model="m"), client)
    assert await text_of(backend) == "x, y"
    payload = json.loads(sent[0].content)
    assert sent[0].url == "http://l/infill"
    assert payload["input_prefix"] == "def f(" and payload["input_suffix"] == ")\n"
    assert payload["input_extra"] == [{"filename": "n.ipynb [1]", "text": "import os"}]
    assert payload["n_predict"] == 8 and payload["cache_prompt"] and payload["stream"]


async def test_ollama_ndjson_with_a_native_suffix() -> None:
    lines = [{"response": "a", "done": False}, {"response": "b", "done": True}]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    client, sent = mock(lambda r: httpx.Response(200, content=body))
    backend = OllamaBackend(BackendSettings(base_url="http://o", model="qwen"), client)
    assert await text_of(backend) == "ab"
    payload = json.loads(sent[0].content)
    assert payload["prompt"] == "import os\n\ndef f(" and payload["suffix"] == ")\n"
    assert payload["options"]["num_predict"] == 8 and "raw" not in payload


async def test_openai_rejecting_suffix_falls_back_to_chat_once() -> None:
    openai_module._chat_only.clear()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/completions") and "chat" not in request.url.path:
            return httpx.Response(400, json={"error": {"message": "suffix is not supported"}})
        chunk = {"choices": [{"delta": {"content": "z"}, "finish_reason": "stop"}]}
        return httpx.Response(200, headers=EVENT_STREAM, content=sse(chunk) + b"data: [DONE]\n\n")

    client, sent = mock(answer)
    settings = BackendSettings(base_url="http://v/v1", model="m", api_key="sk-abcdefgh12")
    backend = OpenAIBackend(settings, client)
    assert await text_of(backend) == "z" and await text_of(backend) == "z"
    assert [request.url.path for request in sent] == [
        "/v1/completions", "/v1/chat/completions", "/v1/chat/completions",
    ]  # fmt: skip
    assert sent[0].headers["authorization"] == "Bearer sk-abcdefgh12"


async def test_the_chat_only_memory_is_bounded() -> None:
    openai_module._chat_only.clear()
    for number in range(openai_module.CHAT_ONLY_REMEMBERED + 10):
        openai_module._remember_chat_only((f"http://s{number}", "m"))
    assert len(openai_module._chat_only) == openai_module.CHAT_ONLY_REMEMBERED
    assert ("http://s0", "m") not in openai_module._chat_only
    assert (f"http://s{openai_module.CHAT_ONLY_REMEMBERED + 9}", "m") in openai_module._chat_only


async def test_the_client_pool_keeps_the_most_recently_used_and_closes_the_rest() -> None:
    from jupyter_ai_inline.engine import aclose_clients
    from jupyter_ai_inline.engine.http import MAX_CLIENTS, _closing, get_client

    def client(number: int) -> httpx.AsyncClient:
        return get_client(f"http://s{number}", connect_timeout=1, read_timeout=1)

    first = client(0)
    made = [client(number) for number in range(1, MAX_CLIENTS)]
    assert client(0) is first  # the most recently used again
    extra = client(MAX_CLIENTS)  # one too many: the least recently used (s1) goes
    await asyncio.gather(*_closing)
    assert made[0].is_closed and not first.is_closed and not extra.is_closed
    assert client(1) is not made[0]  # a new one; now s2 went
    await aclose_clients()
    assert made[1].is_closed and first.is_closed and extra.is_closed
