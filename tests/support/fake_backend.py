"""Loopback fake LLM server for tests and benchmarks.

Imitates the parts of three real server APIs that an inline-completion client talks to:

* Ollama: ``POST /api/generate`` and ``POST /api/chat`` (NDJSON), ``GET /api/tags``,
  ``GET /api/version``, ``POST /api/show`` (the model's ``template``)
* llama.cpp ``llama-server``: ``POST /infill``, ``POST /completion`` (SSE), ``GET /health``,
  ``GET /props``, ``GET /slots``
* OpenAI-compatible: ``POST /v1/completions``, ``POST /v1/chat/completions`` (SSE),
  ``GET /v1/models``

``stream`` defaults follow the real servers: Ollama streams unless ``"stream": false``; llama.cpp
and OpenAI only stream with ``"stream": true``.  Settings are plain attributes and may be changed
between requests.  aiohttp does not cancel a handler when its client goes away (since 3.7,
``handler_cancellation`` is off), so every wait polls the transport and ends within ``POLL``
seconds of a disconnect, freeing the slot at once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web

from tests.support.poll import until

POLL = 0.005  # seconds between disconnect checks while waiting
TokenSource = Sequence[str] | Callable[[str, dict[str, Any]], Sequence[str]]
_ids = itertools.count(1)


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # lower-cased names
    peer: Any = None  # the client's (host, port): the same port means a reused connection
    received_at: float = field(default_factory=time.perf_counter)


@dataclass
class Generation:
    path: str
    body: dict[str, Any]
    started: float  # when a slot was taken
    first_token_at: float | None = None
    ended_at: float | None = None
    tokens_sent: int = 0
    disconnected: bool = False  # the client went away before the end


class _Gone(Exception):
    """The client disconnected (client=True) or the server is stopping (client=False)."""

    def __init__(self, client: bool) -> None:
        super().__init__("client disconnected" if client else "server stopping")
        self.client = client


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


class _Api:
    """Wire format of one generation endpoint."""

    kind = "openai"
    content_type = "text/event-stream"
    default_stream = False
    done_marker = b""

    def limit(self, body: dict[str, Any]) -> Any:
        return body.get("max_tokens", body.get("max_completion_tokens"))

    def frame(self, obj: dict[str, Any]) -> bytes:
        return _sse(obj)

    def garbage(self, tok: str) -> bytes:
        return f"data: {{not json {tok!r}\n\n".encode()

    def opening(self, model: str) -> list[dict[str, Any]]:
        return []

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        raise NotImplementedError

    def final(self, model: str, n: int, reason: str) -> dict[str, Any]:
        return self.whole(model, "", n, reason)  # Ollama and llama.cpp: a "done" frame

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        raise NotImplementedError


class _Ollama(_Api):
    kind = "ollama"
    content_type = "application/x-ndjson"
    default_stream = True

    def limit(self, body: dict[str, Any]) -> Any:
        return (body.get("options") or {}).get("num_predict")

    def frame(self, obj: dict[str, Any]) -> bytes:
        return json.dumps(obj).encode() + b"\n"

    def garbage(self, tok: str) -> bytes:
        return f"<html>not json {tok!r}\n".encode()

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return {"model": model, "created_at": now, "response": tok, "done": False}

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        stats = {"total_duration": 10**6, "prompt_eval_count": 8, "eval_count": n}
        return {**self.chunk(model, text), "done": True, "done_reason": reason, **stats}


class _OllamaChat(_Ollama):
    """``/api/chat`` (LangChain's ChatOllama): the text is in ``message.content``."""

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        frame = super().chunk(model, tok)
        del frame["response"]
        return {**frame, "message": {"role": "assistant", "content": tok}}

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        durations = {"load_duration": 1, "prompt_eval_duration": 1, "eval_duration": 1}
        return {**super().whole(model, text, n, reason), **durations}


class _LlamaCpp(_Api):
    kind = "llamacpp"

    def limit(self, body: dict[str, Any]) -> Any:
        return body.get("n_predict")

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        return {"index": 0, "content": tok, "stop": False, "id_slot": 0}

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        stop_type = "eos" if reason == "stop" else "limit"
        done = {"stop": True, "model": model, "stop_type": stop_type, "tokens_predicted": n}
        return {**self.chunk(model, text), **done, "tokens_evaluated": 8}


class _OpenAICompletions(_Api):
    obj, prefix = "text_completion", "cmpl"
    done_marker = b"data: [DONE]\n\n"

    def _base(self, model: str, choice: dict[str, Any], obj: str | None = None) -> dict[str, Any]:
        return {
            "id": f"{self.prefix}-fake{next(_ids)}",
            "object": obj or self.obj,
            "created": int(time.time()),
            "model": model,
            "choices": [choice],
        }

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        return self._base(model, {"index": 0, "text": tok, "logprobs": None, "finish_reason": None})

    def final(self, model: str, n: int, reason: str) -> dict[str, Any]:
        choice = {"index": 0, "text": "", "logprobs": None, "finish_reason": reason}
        return self._base(model, choice)

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": reason}
        usage = {"prompt_tokens": 8, "completion_tokens": n, "total_tokens": 8 + n}
        return {**self._base(model, choice), "usage": usage}


class _OpenAIChat(_OpenAICompletions):
    obj, prefix = "chat.completion.chunk", "chatcmpl"

    def opening(self, model: str) -> list[dict[str, Any]]:  # OpenAI sends the role first
        delta = {"role": "assistant", "content": ""}
        return [self._base(model, {"index": 0, "delta": delta, "finish_reason": None})]

    def chunk(self, model: str, tok: str) -> dict[str, Any]:
        return self._base(model, {"index": 0, "delta": {"content": tok}, "finish_reason": None})

    def final(self, model: str, n: int, reason: str) -> dict[str, Any]:
        return self._base(model, {"index": 0, "delta": {}, "finish_reason": reason})

    def whole(self, model: str, text: str, n: int, reason: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": reason}
        usage = {"prompt_tokens": 8, "completion_tokens": n, "total_tokens": 8 + n}
        return {**self._base(model, choice, "chat.completion"), "usage": usage}


_APIS: dict[str, _Api] = {
    "/api/generate": _Ollama(),
    "/api/chat": _OllamaChat(),
    "/completion": _LlamaCpp(),
    "/infill": _LlamaCpp(),
    "/v1/completions": _OpenAICompletions(),
    "/v1/chat/completions": _OpenAIChat(),
}
_FAIL_MESSAGES = {
    401: "Incorrect API key provided",
    429: "Rate limit reached, try again later",
    500: "model runner crashed (fake failure)",
    503: "Loading model",
}
_LLAMA_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    501: "not_supported_error",
    503: "unavailable_error",
}


def _tag(model: Any) -> str:
    """Ollama treats ``name`` and ``name:latest`` as the same model."""
    return str(model) if ":" in str(model) else f"{model}:latest"


def _error(kind: str, status: int, message: str, code: str | None = None) -> web.Response:
    """An error response in the real shape of each API."""
    body: dict[str, Any]
    if kind == "ollama":
        body = {"error": message}
    elif kind == "llamacpp":
        kind_name = _LLAMA_TYPES.get(status, "server_error")
        body = {"error": {"code": status, "message": message, "type": kind_name}}
    else:
        etype = "server_error" if status >= 500 else "invalid_request_error"
        etype = "rate_limit_exceeded" if status == 429 else etype
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return web.json_response(body, status=status)


OLLAMA_FIM_TEMPLATE = (
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>"
    "{{- else }}{{ .Prompt }}{{- end }}"
)
"""A model template that takes a suffix (Ollama's qwen2.5-coder has this shape)."""


class FakeBackend:
    def __init__(
        self,
        *,
        tokens: TokenSource = ("a", "b", "c"),
        first_token_delay: float = 0.0,
        token_delay: float = 0.0,
        slots: int | None = None,
        known_models: set[str] | None = None,
        fail_status: int | None = None,
        fail_body: str | dict[str, Any] | None = None,
        retry_after: str | None = None,
        malformed: Literal["garbage", "truncated"] | None = None,
        hang: bool = False,
        openai_reject_suffix: bool = False,
        openai_no_completions: bool = False,
        llamacpp_fim: bool = True,
        port: int = 0,
        drop_requests: int = 0,
        ignore_limits: bool = False,
        stream_error: str | None = None,
        ollama_template: str | None = OLLAMA_FIM_TEMPLATE,
    ) -> None:
        self.tokens = tokens
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.slots = slots  # max concurrent generations, None = unlimited; others queue FIFO
        self.known_models = known_models
        self.fail_status = fail_status
        self.fail_body = fail_body  # None: each API's error shape; dict: JSON; str: raw text
        self.retry_after = retry_after  # the `Retry-After` header of a failure
        self.malformed = malformed
        self.hang = hang
        self.openai_reject_suffix = openai_reject_suffix
        self.openai_no_completions = openai_no_completions
        self.llamacpp_fim = llamacpp_fim
        self.model_path = "/models/fake.gguf"  # llama.cpp's `GET /props`
        self.port = port  # 0: any free port
        # close the connection of this many next generation or /props requests unanswered,
        # as llama-server may on a kept-alive connection right after a stream ends
        self.drop_requests = drop_requests
        self.ignore_limits = ignore_limits  # stream every token whatever max_tokens says
        self.stream_error = stream_error  # an error message sent in the stream after a token
        # the model template `/api/show` reports (None: 404, as for a model not pulled)
        self.ollama_template = ollama_template
        self.shows: list[dict[str, Any]] = []  # the bodies `/api/show` received
        self.url = ""
        self.requests: list[RecordedRequest] = []
        self.generations: list[Generation] = []
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._stopping = False
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        for path in _APIS:
            app.router.add_post(path, self._handle)
        app.router.add_post("/api/show", self._show)
        for path, handler in [
            ("/api/tags", self._tags),
            ("/api/version", self._version),
            ("/health", self._health),
            ("/props", self._props),
            ("/slots", self._slots),
            ("/v1/models", self._models),
        ]:
            app.router.add_get(path, handler)
        self._stopping = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Drop every open stream (within POLL seconds) and shut the server down."""
        self._stopping = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBackend:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- observations ------------------------------------------------------------------------
    @property
    def disconnects(self) -> int:
        return sum(g.disconnected for g in self.generations)

    @property
    def tokens_generated(self) -> int:
        return sum(g.tokens_sent for g in self.generations)

    @property
    def active(self) -> int:
        return self._active

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        await until(predicate, timeout, POLL)

    # -- slots and disconnect-aware waiting ---------------------------------------------------
    def _check(self, request: web.BaseRequest) -> None:
        if self._stopping:
            raise _Gone(client=False)
        transport = request.transport
        if transport is None or transport.is_closing():
            raise _Gone(client=True)

    def _dispatch(self) -> None:
        while self._waiters and (self.slots is None or self._active < self.slots):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(None)

    async def _acquire(self, request: web.BaseRequest) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._dispatch()
        try:
            while not waiter.done():
                self._check(request)
                await asyncio.wait({waiter}, timeout=POLL)
        except BaseException:
            if waiter.done():  # the slot was handed over just as we gave up
                self._release()
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        self._active -= 1
        self._dispatch()

    async def _pause(self, request: web.BaseRequest, seconds: float | None) -> None:
        """Sleep ``seconds`` (None: until the client leaves), raising _Gone on disconnect."""
        deadline = None if seconds is None else time.perf_counter() + seconds
        while True:
            self._check(request)
            remaining = POLL if deadline is None else deadline - time.perf_counter()
            if remaining <= 0:
                return
            await asyncio.sleep(min(POLL, remaining))

    async def _prepare(self, request: web.BaseRequest, resp: web.StreamResponse) -> None:
        """Send the headers; a client that left while its request queued is gone."""
        self._check(request)
        try:
            await resp.prepare(request)
        except ConnectionError as exc:
            raise _Gone(client=True) from exc

    async def _write(self, request: web.BaseRequest, resp: web.StreamResponse, data: bytes) -> None:
        self._check(request)
        try:
            await resp.write(data)
        except ConnectionError as exc:
            raise _Gone(client=True) from exc

    # -- generation endpoints ----------------------------------------------------------------
    def _reject(self, path: str, api: _Api, body: dict[str, Any] | None) -> web.Response | None:
        """The error a real server would answer with instead of generating, if any."""
        kind, model, known = api.kind, (body or {}).get("model"), self.known_models
        if path == "/v1/completions" and self.openai_no_completions:
            msg = "This is a chat model and not supported in the v1/completions endpoint."
            return _error(kind, 404, msg)
        if path == "/infill" and not self.llamacpp_fim:
            msg = "Infill is not supported by this model: prefix token is missing."
            return _error(kind, 501, msg)
        if self.fail_status is not None:
            return self._failure(kind, self.fail_status)
        if body is None:
            return _error(kind, 400, "invalid JSON request body")
        if kind == "ollama" and not model:
            return _error(kind, 400, "model is required")
        if kind == "ollama" and known is not None and _tag(model) not in map(_tag, known):
            return _error(kind, 404, f'model "{model}" not found, try pulling it first')
        if kind == "openai" and known is not None and model not in known:
            return _error(kind, 404, f"The model `{model}` does not exist", "model_not_found")
        if path == "/v1/completions" and self.openai_reject_suffix and body.get("suffix"):
            return _error(kind, 400, "suffix is not supported")
        return None

    def _failure(self, kind: str, status: int) -> web.Response:
        response = self._failure_body(kind, status)
        if self.retry_after is not None:
            response.headers["Retry-After"] = self.retry_after
        return response

    def _failure_body(self, kind: str, status: int) -> web.Response:
        if isinstance(self.fail_body, dict):
            return web.json_response(self.fail_body, status=status)
        if isinstance(self.fail_body, str):
            return web.Response(text=self.fail_body, status=status)
        try:
            message = _FAIL_MESSAGES.get(status, HTTPStatus(status).phrase)
        except ValueError:
            message = "fake failure"
        return _error(kind, status, message)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, api = request.path, _APIS[request.path]
        try:
            body: dict[str, Any] | None = await request.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else None
        headers = {k.lower(): v for k, v in request.headers.items()}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(RecordedRequest(path, body or {}, headers, peer))
        if self._drop(request):
            return web.Response(status=499)  # never sent: the connection is gone
        if (rejection := self._reject(path, api, body)) is not None:
            return rejection
        assert body is not None  # _reject answers 400 otherwise
        tokens = list(self.tokens(path, body) if callable(self.tokens) else self.tokens)
        limit, reason = api.limit(body), "stop"
        if isinstance(limit, int) and 0 <= limit < len(tokens) and not self.ignore_limits:
            tokens, reason = tokens[:limit], "length"
        model = str(body.get("model") or "fake-model")
        stream = bool(body.get("stream", api.default_stream))
        resp: web.StreamResponse | None = None
        gen: Generation | None = None
        try:
            await self._acquire(request)
            gen = Generation(path, body, started=time.perf_counter())
            self.generations.append(gen)
            if stream or self.hang or self.malformed == "truncated":
                resp = web.StreamResponse(headers={"Cache-Control": "no-cache"})
                resp.content_type = api.content_type if stream else "application/json"
                await self._prepare(request, resp)
            if self.hang:
                await self._pause(request, None)
            await self._pause(request, self.first_token_delay)
            for i, tok in enumerate(tokens):
                if i:
                    await self._pause(request, self.token_delay)
                if stream and resp is not None:
                    frames = api.opening(model) if i == 0 else []
                    data = b"".join(api.frame(f) for f in [*frames, api.chunk(model, tok)])
                    await self._write(
                        request, resp, api.garbage(tok) if self.malformed == "garbage" else data
                    )
                gen.tokens_sent += 1
                gen.first_token_at = gen.first_token_at or time.perf_counter()
                if self.stream_error is not None and resp is not None:
                    await self._write(request, resp, api.frame({"error": self.stream_error}))
                if self.malformed == "truncated" and gen.tokens_sent >= 2:
                    break
            if self.malformed == "truncated" and resp is not None:
                if not stream:  # half a JSON document
                    whole = json.dumps(api.whole(model, "".join(tokens), len(tokens), reason))
                    await self._write(request, resp, whole[: len(whole) // 2].encode())
                raise _Gone(client=False)  # drop the connection without the final message
            if not stream:
                if self.malformed == "garbage":
                    return web.Response(
                        text="<html>502 Bad Gateway</html>", content_type="application/json"
                    )
                return web.json_response(api.whole(model, "".join(tokens), len(tokens), reason))
            assert resp is not None
            if self.malformed == "garbage":
                await self._write(request, resp, api.garbage("done"))
            else:
                final = api.frame(api.final(model, len(tokens), reason))
                await self._write(request, resp, final + api.done_marker)
            await resp.write_eof()
            return resp
        except _Gone as gone:
            if gen is not None:
                gen.disconnected = gone.client
            if request.transport is not None:
                request.transport.close()  # aiohttp then skips the response (ConnectionError)
            return resp or web.Response(status=499)
        finally:
            if gen is not None:
                gen.ended_at = time.perf_counter()
                self._release()

    # -- informational endpoints -------------------------------------------------------------
    def _model_names(self) -> list[str]:
        return sorted(self.known_models) if self.known_models is not None else ["fake-model"]

    async def _tags(self, request: web.Request) -> web.Response:
        info = {"modified_at": "2024-01-01T00:00:00Z", "size": 1, "details": {"format": "gguf"}}
        models = [{"name": m, "model": m, **info} for m in self._model_names()]
        return web.json_response({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.shows.append(body)
        if self.ollama_template is None:
            return _error("ollama", 404, f"model '{body.get('model')}' not found")
        return web.json_response({"template": self.ollama_template, "details": {}})

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "0.5.7"})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _drop(self, request: web.BaseRequest) -> bool:
        """Close the connection instead of answering, while `drop_requests` says so."""
        if self.drop_requests > 0 and request.transport is not None:
            self.drop_requests -= 1
            request.transport.close()
            return True
        return False

    async def _props(self, request: web.Request) -> web.Response:
        if self._drop(request):
            return web.Response(status=499)
        settings = {"n_ctx": 4096, "params": {"n_predict": -1, "temperature": 0.8}}
        props = {"default_generation_settings": settings, "total_slots": self.slots or 1}
        return web.json_response({**props, "model_path": self.model_path})

    async def _slots(self, request: web.Request) -> web.Response:
        n = self.slots or max(1, self._active)
        return web.json_response([{"id": i, "is_processing": i < self._active} for i in range(n)])

    async def _models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self._model_names()]
        return web.json_response({"object": "list", "data": data})
