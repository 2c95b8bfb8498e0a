"""Wire formats, checked without a socket: each backend with an injected `httpx.AsyncClient`
on a `MockTransport` that records what was sent and answers like the real server."""

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

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="def f(", suffix=")\n", above=("import os",), filename="n.ipynb")


EVENT_STREAM = {"content-type": "text/event-stream"}


def sse(*events: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


def mock(answer):
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), sent


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
