"""Quick checks that the fake model server imitates the real APIs and behaves as tests expect."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio


async def _sse_events(client: httpx.AsyncClient, url: str, body: dict) -> list[str]:
    async with aconnect_sse(client, "POST", url, json=body) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [event.data async for event in source.aiter_sse()]


async def test_ollama_shapes() -> None:
    async with FakeBackend() as fb, httpx.AsyncClient(base_url=fb.url) as client:
        resp = await client.post("/api/generate", json={"model": "m", "prompt": "x"})
        assert resp.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in resp.text.splitlines()]
        assert [line["response"] for line in lines] == ["a", "b", "c", ""]
        assert all(line["done"] is False and line["model"] == "m" for line in lines[:3])
        assert lines[-1] | {"done": True, "done_reason": "stop", "eval_count": 3} == lines[-1]

        body = {"model": "m", "prompt": "x", "options": {"num_predict": 2}, "stream": False}
        whole = (await client.post("/api/generate", json=body)).json()
        assert (whole["response"], whole["done"], whole["done_reason"]) == ("ab", True, "length")
        assert (await client.get("/api/version")).json()["version"]
        assert (await client.get("/api/tags")).json()["models"][0]["name"] == "fake-model"
    assert [r.path for r in fb.requests] == ["/api/generate", "/api/generate"]
    assert fb.tokens_generated == 5 and fb.disconnects == 0


async def test_llamacpp_shapes() -> None:
    async with FakeBackend(slots=2) as fb, httpx.AsyncClient(base_url=fb.url) as client:
        body = {"input_prefix": "def f(", "input_suffix": ")", "stream": True}
        events = [json.loads(e) for e in await _sse_events(client, "/infill", body)]
        assert [e["content"] for e in events] == ["a", "b", "c", ""]
        assert [e["stop"] for e in events] == [False, False, False, True]
        assert events[-1]["stop_type"] == "eos" and events[-1]["tokens_predicted"] == 3

        body = {"prompt": "x", "n_predict": 1, "stream": True}
        events = [json.loads(e) for e in await _sse_events(client, "/completion", body)]
        assert [e["content"] for e in events] == ["a", ""] and events[-1]["stop_type"] == "limit"
        whole = (await client.post("/completion", json={"prompt": "x"})).json()
        assert (whole["content"], whole["stop"]) == ("abc", True)

        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/props")).json()["total_slots"] == 2
        assert (await client.get("/slots")).json() == [
            {"id": 0, "is_processing": False},
            {"id": 1, "is_processing": False},
        ]
        fb.llamacpp_fim = False
        resp = await client.post("/infill", json={"input_prefix": "x"})
        assert resp.status_code == 501 and resp.json()["error"]["code"] == 501


async def test_openai_shapes() -> None:
    async with FakeBackend() as fb, httpx.AsyncClient(base_url=fb.url) as client:
        body = {"model": "m", "prompt": "x", "stream": True, "max_tokens": 2}
        events = await _sse_events(client, "/v1/completions", body)
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        assert all(c["object"] == "text_completion" for c in chunks)
        assert [c["choices"][0]["text"] for c in chunks] == ["a", "b", ""]
        assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "length"]

        body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}
        events = await _sse_events(client, "/v1/chat/completions", body)
        assert events[-1] == "[DONE]"
        choices = [json.loads(e)["choices"][0] for e in events[:-1]]
        assert "".join(c["delta"].get("content", "") for c in choices) == "abc"
        assert choices[-1] == {"index": 0, "delta": {}, "finish_reason": "stop"}

        del body["stream"]  # OpenAI does not stream by default
        whole = (await client.post("/v1/chat/completions", json=body)).json()
        assert whole["choices"][0]["message"]["content"] == "abc"
        whole = (await client.post("/v1/completions", json={"model": "m", "prompt": "x"})).json()
        assert whole["choices"][0]["text"] == "abc" and whole["usage"]["completion_tokens"] == 3


async def test_errors() -> None:
    async with (
        FakeBackend(known_models={"llama3"}) as fb,
        httpx.AsyncClient(base_url=fb.url) as client,
    ):
        resp = await client.post("/api/generate", json={"model": "nope", "prompt": "x"})
        assert resp.status_code == 404
        assert resp.json() == {"error": 'model "nope" not found, try pulling it first'}
        resp = await client.post("/api/generate", json={"model": "llama3:latest", "prompt": "x"})
        assert resp.status_code == 200
        resp = await client.post("/v1/completions", json={"model": "nope", "prompt": "x"})
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "model_not_found"

        fb.openai_reject_suffix = True
        body = {"model": "llama3", "prompt": "x", "suffix": "y"}
        resp = await client.post("/v1/completions", json=body)
        assert resp.status_code == 400
        assert resp.json()["error"]["message"] == "suffix is not supported"
        fb.openai_no_completions = True
        assert (await client.post("/v1/completions", json=body)).status_code == 404

        fb.fail_status = 401
        resp = await client.post("/v1/chat/completions", json={"model": "llama3"})
        assert resp.status_code == 401
        assert resp.json()["error"]["message"] == "Incorrect API key provided"
        fb.fail_status, fb.fail_body = 503, "<html>down</html>"
        resp = await client.post("/api/generate", json={"model": "llama3"})
        assert (resp.status_code, resp.text) == (503, "<html>down</html>")
    assert len(fb.requests) == 7 and len(fb.generations) == 1


async def test_slots_queue_and_count_wait_in_ttft() -> None:
    async with (
        FakeBackend(slots=1, first_token_delay=0.05) as fb,
        httpx.AsyncClient(base_url=fb.url) as client,
    ):
        body = {"model": "m", "prompt": "x"}
        t0 = time.perf_counter()
        await asyncio.gather(*(client.post("/api/generate", json=body) for _ in range(3)))
        gens = sorted(fb.generations, key=lambda g: g.started)
        assert len(gens) == 3 and fb.active == 0
        for prev, nxt in zip(gens, gens[1:], strict=False):
            assert prev.ended_at is not None and nxt.started >= prev.ended_at
        assert gens[-1].first_token_at is not None and gens[-1].first_token_at - t0 >= 0.15
        assert all(g.tokens_sent == 3 and not g.disconnected for g in gens)


async def test_disconnect_frees_slot_quickly() -> None:
    fb = FakeBackend(slots=1, token_delay=1.0)
    async with fb, httpx.AsyncClient(base_url=fb.url) as client:
        body = {"model": "m", "prompt": "x"}
        async with client.stream("POST", "/api/generate", json=body) as resp:
            lines = resp.aiter_lines()  # keep a reference: a discarded httpx line iterator is
            first_line = await anext(lines)  # finalised by asyncio and closes the connection
            assert json.loads(first_line)["response"] == "a"
            queued = asyncio.create_task(client.post("/api/generate", json=body))
            await fb.wait_until(lambda: len(fb.requests) == 2)
            assert fb.active == 1 and len(fb.generations) == 1
            closed_at = time.perf_counter()
        await fb.wait_until(lambda: fb.disconnects == 1)
        first = fb.generations[0]
        # freed on disconnect, not at its next token a second later
        assert first.ended_at is not None and first.ended_at - closed_at < fb.token_delay / 2
        assert first.tokens_sent == 1
        await fb.wait_until(lambda: len(fb.generations) == 2)
        second = fb.generations[1]
        assert second.started - closed_at < fb.token_delay / 2  # first had ~2 s more to run
        queued.cancel()  # we do not need its result; the server must notice this too
        await fb.wait_until(lambda: fb.active == 0, timeout=1.5)
        assert fb.generations[1].ended_at is not None


async def test_hang_then_client_leaves_and_stop_closes_streams() -> None:
    async with FakeBackend(hang=True) as fb, httpx.AsyncClient(base_url=fb.url) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/api/generate", json={"model": "m"}, timeout=0.1)
        await fb.wait_until(lambda: fb.disconnects == 1)
        assert fb.active == 0 and fb.tokens_generated == 0

        async with client.stream("POST", "/completion", json={"stream": True}) as resp:
            assert resp.status_code == 200
            reader = asyncio.create_task(resp.aread())
            await fb.wait_until(lambda: fb.active == 1)
            t0 = time.perf_counter()
            await fb.stop()
            assert time.perf_counter() - t0 < 2.0  # the hanging stream would never end
            with pytest.raises(httpx.RemoteProtocolError):
                await reader
    assert fb.active == 0 and not fb.generations[1].disconnected
    assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left running


@pytest.mark.parametrize("path", ["/api/generate", "/v1/completions", "/completion"])
async def test_truncated_and_garbage(path: str) -> None:
    body = {"model": "m", "prompt": "x", "stream": True}
    async with (
        FakeBackend(malformed="truncated") as fb,
        httpx.AsyncClient(base_url=fb.url) as client,
    ):
        lines: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", path, json=body) as resp:
                async for line in resp.aiter_lines():
                    lines += [line] if line else []
        assert len(lines) == 2 and not any("[DONE]" in x or '"done": true' in x for x in lines)
        assert fb.generations[0].tokens_sent == 2

        fb.malformed = "garbage"
        resp = await client.post(path, json=body)
        assert resp.status_code == 200
        for line in filter(None, resp.text.splitlines()):
            with pytest.raises(ValueError):
                json.loads(line.removeprefix("data: "))
