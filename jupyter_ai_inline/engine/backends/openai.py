"""OpenAI-compatible servers: `/completions` with `prompt` + `suffix` over SSE.

Servers that reject `suffix` (vLLM) get the model family's own FIM prompt as a raw
`prompt` when a template applies (`engine.fim`); otherwise, and for servers without a
completions endpoint, `/chat/completions` with a fill-in-the-middle instruction. The choice
is remembered per (base URL, model).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
from httpx_sse import EventSource

from ..errors import BadResponse, InlineError, ModelNotFound, Unsupported
from ..fim import FimTemplate, merge_stops, template_for
from ..models import FimPrompt, Sampling
from .base import Backend

CURSOR = "<CURSOR>"
CHAT_INSTRUCTION = (
    "You are a code completion engine inside a Jupyter notebook. The user sends {language} "
    f"code with the marker {CURSOR}. Reply with only the text to insert at {CURSOR}: "
    "no explanation, no code fences, no repetition of the code around it."
)

CHAT_ONLY_REMEMBERED = 256
_chat_only: OrderedDict[tuple[str, str], None] = OrderedDict()
"""(base URL, model) pairs known to need the chat fallback, the most recent last."""


_raw_fim: OrderedDict[tuple[str, str], None] = OrderedDict()
"""(base URL, model) pairs known to reject `suffix` whose model has a FIM template."""

MAX_STOPS = 4
"""OpenAI's limit on `stop` sequences."""


def _remember(memory: OrderedDict[tuple[str, str], None], server: tuple[str, str]) -> None:
    memory[server] = None
    memory.move_to_end(server)
    while len(memory) > CHAT_ONLY_REMEMBERED:
        memory.popitem(last=False)


def _remember_chat_only(server: tuple[str, str]) -> None:
    _remember(_chat_only, server)


class SuffixRejected(Unsupported):
    """The server answered 400 to `suffix` (vLLM: `suffix is not currently supported`)."""


class OpenAIBackend(Backend):
    label = "OpenAI-compatible server"
    default_base_url = "https://api.openai.com/v1"

    def headers(self) -> dict[str, str]:
        key = self._api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def sampling_fields(self, sampling: Sampling) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "stream": True,
        }
        if sampling.seed is not None:
            fields["seed"] = sampling.seed
        if sampling.stop:
            fields["stop"] = list(sampling.stop)[:4]
        return fields

    def completion_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        payload = {"prompt": prompt.full_prefix, **self.sampling_fields(sampling)}
        if prompt.full_suffix:
            payload["suffix"] = prompt.full_suffix
        return payload

    def raw_fim_payload(
        self, prompt: FimPrompt, sampling: Sampling, template: FimTemplate
    ) -> dict[str, Any]:
        """The family's FIM prompt as plain text, no `suffix`, with its stop tokens first."""
        fields = self.sampling_fields(sampling)
        fields["stop"] = merge_stops(template.stop, sampling.stop, MAX_STOPS)
        return {"prompt": template.render(prompt), **fields}

    def chat_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        instruction = CHAT_INSTRUCTION.format(language=prompt.language)
        code = f"{prompt.full_prefix}{CURSOR}{prompt.full_suffix}"
        return {
            "messages": [
                {"role": "system", "content": instruction},
                {"role": "user", "content": code},
            ],
            **self.sampling_fields(sampling),
        }

    async def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        prompt = self.laid_out(prompt)  # `suffix` or the family's FIM prompt (chat: either)
        server = (self.base_url, self.settings.model)
        template = template_for(self.settings.fim_template, self.settings.model)
        raw = template is not None and server in _raw_fim
        if server not in _chat_only and not raw:
            try:
                payload = self.completion_payload(prompt, sampling)
                async with aclosing(self._sse("/completions", payload, chat=False)) as events:
                    async for text in events:
                        yield text
                return
            except SuffixRejected:
                raw = template is not None
            except (Unsupported, ModelNotFound):
                pass  # a chat-only server or model; an unknown model fails again below
        if raw and template is not None:
            _remember(_raw_fim, server)
            payload = self.raw_fim_payload(prompt, sampling, template)
            async with aclosing(self._sse("/completions", payload, chat=False)) as events:
                async for text in events:
                    yield text
            return
        payload = self.chat_payload(prompt, sampling)
        async with aclosing(self._sse("/chat/completions", payload, chat=True)) as events:
            async for text in events:
                _remember_chat_only(server)
                yield text

    def status_error(
        self, status: int, body: str, headers: httpx.Headers | None = None
    ) -> InlineError:
        error = super().status_error(status, body, headers)
        if status == 400 and "suffix" in error.detail.lower():
            return SuffixRejected("The server does not accept `suffix`", error.detail)
        return error

    async def _sse(self, path: str, payload: dict[str, Any], chat: bool) -> AsyncIterator[str]:
        finished = False
        async with (
            self.post_stream(path, payload) as response,
            aclosing(EventSource(response).aiter_sse()) as events,
        ):
            async for event in events:
                if event.data.strip() == "[DONE]":
                    await self.drain(events)
                    return
                if not event.data:
                    continue
                message = self.parse_json(event.data)
                choices = message.get("choices") or []
                if not choices:
                    continue
                choice = choices[0]
                if not isinstance(choice, dict):
                    raise BadResponse(
                        f"{self.label} sent an unexpected choice: "
                        f"{self.server_text(repr(choice), 80)}"
                    )
                text = (choice.get("delta") or {}).get("content") if chat else choice.get("text")
                yield text if isinstance(text, str) else ""
                finished = finished or bool(choice.get("finish_reason"))
        if not finished:
            raise self.truncated()
