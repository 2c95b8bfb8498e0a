"""Ollama: `POST /api/generate` with `prompt` + `suffix` (native FIM), NDJSON stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..errors import InlineError, ModelNotFound
from ..models import FimPrompt, Sampling
from .base import Backend


class OllamaBackend(Backend):
    label = "Ollama"
    default_base_url = "http://localhost:11434"

    def payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_predict": sampling.max_tokens,
            "temperature": sampling.temperature,
        }
        if sampling.seed is not None:
            options["seed"] = sampling.seed
        if sampling.stop:
            options["stop"] = list(sampling.stop)
        payload: dict[str, Any] = {
            "model": self.settings.model,
            "prompt": prompt.full_prefix,
            "stream": True,
            "options": options,
        }
        suffix = prompt.full_suffix
        if suffix:
            payload["suffix"] = suffix  # Ollama applies the model's FIM template
        else:
            payload["raw"] = True  # plain continuation, no chat template
        return payload

    async def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        async with self.post_stream("/api/generate", self.payload(prompt, sampling)) as response:
            lines = response.aiter_lines()
            async for line in lines:
                if not line.strip():
                    continue
                message = self.parse_json(line)
                text = message.get("response", "")
                if text:
                    yield text
                if message.get("done"):
                    await self.drain(lines)
                    return
        raise self.truncated()

    def status_error(
        self, status: int, body: str, headers: httpx.Headers | None = None
    ) -> InlineError:
        if status == 404:
            model = self.settings.model
            return ModelNotFound(
                f"Ollama at {self.base_url} has no model '{model}': run `ollama pull {model}`",
                self.server_text(body),
            )
        return super().status_error(status, body, headers)
