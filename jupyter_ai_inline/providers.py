"""Jupyter AI 2.x model providers: the only module importing `jupyter_ai_magics`.

Users pick `inline-ollama:MODEL`, `inline-llamacpp:MODEL` or `inline-openai:MODEL` as the
inline completions model in Jupyter AI's settings. The inline methods call the engine
directly; the LangChain methods exist so the class is also a plain completion LLM.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any, ClassVar

from jupyter_ai_magics import BaseProvider
from jupyter_ai_magics.models.completion import (
    InlineCompletionReply,
    InlineCompletionRequest,
    InlineCompletionStreamChunk,
)
from jupyter_ai_magics.providers import EnvAuthStrategy, IntegerField, TextField
from langchain_core.language_models.llms import LLM
from langchain_core.outputs import GenerationChunk
from pydantic import PrivateAttr, SecretStr

from .engine import CompletionRequest, FimPrompt, InlineCompleter, Sampling, aclose_clients
from .engine.config import BackendName, ModelConfig
from .engine.errors import LocalModelUnavailable
from .engine.protocol import Chunk, ErrorInfo, ItemList, Reply
from .server.pipeline import Suggestion
from .server.service import CompletionService

FIELDS = [
    TextField(key="base_url", label="Base URL of the model server (optional)", format="text"),
    IntegerField(key="suggestions", label="Suggestions at once (1-5, default 1)"),
    IntegerField(key="max_tokens", label="Max tokens per suggestion (default 128)"),
]


class InlineProvider(BaseProvider, LLM):
    """Shared behaviour of the inline providers. A subclass names its backend and Jupyter AI's
    `name` for it; its `id` is `inline-<backend>`, its docstring the `help` Jupyter AI shows."""

    backend: ClassVar[BackendName]
    models: ClassVar[list[str]] = ["*"]
    registry: ClassVar[bool] = True
    model_id_key: ClassVar[str] = "model_id"
    model_id_label: ClassVar[str] = "Model"
    fields: ClassVar[list] = FIELDS

    base_url: str | None = None
    suggestions: int | None = None
    max_tokens: int | None = None
    context_above_chars: int = 6000
    context_below_chars: int = 2000
    include_outputs: bool = False
    api_key: SecretStr | None = None

    _completer: InlineCompleter | None = PrivateAttr(default=None)
    _completer_config: ModelConfig | None = PrivateAttr(default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "backend"):
            cls.id = f"inline-{cls.backend}"
            cls.help = " ".join((inspect.getdoc(cls) or "").split())

    @classmethod
    def chat_models(cls) -> list[str]:
        return []

    @property
    def _llm_type(self) -> str:
        return self.id

    @property
    def service(self) -> CompletionService | None:
        """Our server extension's completion service, when it runs in this Jupyter server:
        its local model, generation limit and deadlines apply to Jupyter AI's requests too."""
        return CompletionService.of(self.server_settings)

    @property
    def config(self) -> ModelConfig:
        fields = self.model_dump(include=set(ModelConfig.model_fields) - {"backend", "model"})
        fields.update(backend=self.backend, model=self.model_id)
        if fields["api_key"] is None and self.backend == "openai" and not self.base_url:
            # the variable's own meaning: a key for OpenAI's API, never for another URL
            fields["api_key"] = os.environ.get("OPENAI_API_KEY") or None
        service = self.service
        return service.config(fields) if service else ModelConfig.model_validate(fields)

    @property
    def completer(self) -> InlineCompleter:
        """One per provider instance, i.e. per browser tab: it supersedes old requests. Made
        again if the configuration changed (the managed model's port moved after a restart)."""
        config = self.config
        if self._completer is None or config != self._completer_config:
            service = self.service
            self._completer = service.completer(config) if service else config.completer()
            self._completer_config = config
        return self._completer

    # Jupyter AI inline completion

    def suggestion(self, request: InlineCompletionRequest) -> Suggestion:
        """The request's way through the server (`server/pipeline.py`), as our websocket's:
        our service's when our extension runs in this server (its local model is waited for
        while it starts), else the pipeline alone."""
        engine_request = to_engine_request(request)
        service = self.service
        if service is not None:
            return service.suggestion(
                self.completer, self.config, engine_request, request.number, self.server_settings
            )
        return Suggestion(self.completer, engine_request, request.number, self.server_settings)

    def answered_in_the_browser(self) -> bool:
        """Whether our own completer shows this model's ghost text in the browser: then
        Jupyter AI's completer, turned on beside it, gets no suggestion (see
        `CompletionService.answers_for_jupyter_ai`)."""
        service = self.service
        return service is not None and service.answers_for_jupyter_ai()

    async def stream_inline_completions(
        self, request: InlineCompletionRequest
    ) -> AsyncIterator[InlineCompletionReply | InlineCompletionStreamChunk]:
        """An initial reply with one empty item per suggestion, then chunks with each
        suggestion's full text so far, and exactly one `done` chunk per token (an error
        reply with no items when the local model cannot serve)."""
        if self.answered_in_the_browser():
            yield to_jupyter_ai(Reply(list=ItemList(items=[]), reply_to=request.number))
            return
        suggestion = self.suggestion(request)
        try:
            async with aclosing(suggestion.replies()) as replies:
                async for message in replies:
                    yield to_jupyter_ai(message)
        except LocalModelUnavailable as exc:
            yield to_jupyter_ai(unavailable(request.number, exc))

    async def generate_inline_completions(
        self, request: InlineCompletionRequest
    ) -> InlineCompletionReply:
        """All suggestions at once: the distinct non-empty ones, or the first error."""
        if self.answered_in_the_browser():
            reply = Reply(list=ItemList(items=[]), reply_to=request.number)
        else:
            try:
                reply = await self.suggestion(request).reply()
            except LocalModelUnavailable as exc:
                reply = unavailable(request.number, exc)
        return InlineCompletionReply(**reply.model_dump(exclude={"type"}))

    # LangChain LLM (plain completion of a prompt)

    async def _astream(
        self, prompt: str, stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[GenerationChunk]:
        max_tokens = self.completer.generation.max_tokens
        sampling = Sampling(max_tokens=max_tokens, stop=tuple(stop or ()))
        pieces = self.completer.backend.generate(FimPrompt(prompt, ""), sampling)
        async with aclosing(pieces):
            async for text in pieces:
                chunk = GenerationChunk(text=text)
                if run_manager is not None:
                    await run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    async def _acall(
        self, prompt: str, stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> str:
        return "".join([chunk.text async for chunk in self._astream(prompt, stop, run_manager)])

    def _stream(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Iterator[Any]:
        yield GenerationChunk(text=self._call(prompt, stop))

    def _call(
        self, prompt: str, stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> str:
        """Synchronous call (magics): run the async path on a private event loop."""

        async def call() -> str:
            try:
                return await self._acall(prompt, stop)
            finally:
                await aclose_clients()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, call()).result()


class OllamaInlineProvider(InlineProvider):
    """A model served by [Ollama](https://ollama.com) with fill-in-the-middle support,
    e.g. `qwen2.5-coder:1.5b` (get it with `ollama pull qwen2.5-coder:1.5b`)."""

    backend = "ollama"
    name: ClassVar[str] = "Ollama (inline FIM)"


class LlamaCppInlineProvider(InlineProvider):
    """A model served by llama.cpp's `llama-server` (e.g. `llama-server -m model.gguf
    --port 8080`). The model id is only a label: the server serves its loaded model."""

    backend = "llamacpp"
    name: ClassVar[str] = "llama.cpp server"


class OpenAIInlineProvider(InlineProvider):
    """Any server with an OpenAI-style `/completions` endpoint (vLLM, llama-server, OpenAI's
    `gpt-3.5-turbo-instruct`); chat-only servers are used through `/chat/completions`.
    Local servers accept any API key."""

    backend = "openai"
    name: ClassVar[str] = "OpenAI-compatible (inline)"
    auth_strategy: ClassVar[EnvAuthStrategy] = EnvAuthStrategy(
        name="OPENAI_API_KEY", keyword_param="api_key"
    )


def unavailable(number: int, error: LocalModelUnavailable) -> Reply:
    """The reply to a request that the managed local model cannot serve."""
    return Reply(list=ItemList(items=[]), reply_to=number, error=ErrorInfo.of(error))


def to_engine_request(request: InlineCompletionRequest) -> CompletionRequest:
    return CompletionRequest.model_validate(request, from_attributes=True)


def to_jupyter_ai(message: Reply | Chunk) -> InlineCompletionReply | InlineCompletionStreamChunk:
    """Our wire message as Jupyter AI's model (the same fields)."""
    if isinstance(message, Reply):
        return InlineCompletionReply(**message.model_dump(exclude={"type"}))
    return InlineCompletionStreamChunk(**message.model_dump(exclude={"keep"}))
