"""llama.cpp's `llama-server`: `POST /infill` (FIM with `input_extra`), SSE stream.

Models without FIM tokens answer `/infill` with 501; then `/completion` continues the prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from httpx_sse import EventSource

from ..errors import Unsupported
from ..models import FimPrompt, Sampling
from .base import Backend

MAX_PREDICT_MS = 4000
"""Server-side cap on generation time once a newline was produced."""


class LlamaCppBackend(Backend):
    label = "llama.cpp server"
    default_base_url = "http://localhost:8080"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_infill: bool | None = None

    def sampling_fields(self, sampling: Sampling) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "n_predict": sampling.max_tokens,
            "temperature": sampling.temperature,
            "t_max_predict_ms": MAX_PREDICT_MS,
            "cache_prompt": True,
            "stream": True,
        }
        if sampling.seed is not None:
            fields["seed"] = sampling.seed
        if sampling.stop:
            fields["stop"] = list(sampling.stop)
        return fields

    def infill_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        return {
            "input_prefix": prompt.prefix,
            "input_suffix": prompt.full_suffix,
            "input_extra": [
                {"filename": f"{prompt.filename or 'cell'} [{number}]", "text": text}
                for number, text in enumerate(prompt.above, start=1)
            ],
            **self.sampling_fields(sampling),
        }

    def completion_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        return {"prompt": prompt.full_prefix, **self.sampling_fields(sampling)}

    async def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        if self.has_infill is not False:
            try:
                async for text in self._sse("/infill", self.infill_payload(prompt, sampling)):
                    self.has_infill = True
                    yield text
                return
            except Unsupported:
                if self.has_infill:
                    raise
                self.has_infill = False
        async for text in self._sse("/completion", self.completion_payload(prompt, sampling)):
            yield text

    async def _sse(self, path: str, payload: dict[str, Any]) -> AsyncIterator[str]:
        async with self.post_stream(path, payload) as response:
            events = EventSource(response).aiter_sse()
            async for event in events:
                if not event.data:
                    continue
                message = self.parse_json(event.data)
                text = message.get("content", "")
                if text:
                    yield text
                if message.get("stop"):
                    await self.drain(events)
                    return
        raise self.truncated()
