"""Ollama: `POST /api/generate` with `prompt` + `suffix` (native FIM), NDJSON stream.

A model whose template takes no `.Suffix` (`POST /api/show`) would drop the suffix: it gets
the family's own FIM prompt (`engine.fim`) with `raw: true` instead, when one applies.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx

from ..errors import InlineError, ModelNotFound
from ..fim import FimTemplate, merge_stops, template_for
from ..models import FimPrompt, Sampling
from .base import Backend

TEMPLATES_REMEMBERED = 256
_takes_suffix: OrderedDict[tuple[str, str], bool] = OrderedDict()
"""(base URL, model) → whether the model's template uses `.Suffix`, the most recent last."""


def _remember(server: tuple[str, str], takes_suffix: bool) -> None:
    _takes_suffix[server] = takes_suffix
    _takes_suffix.move_to_end(server)
    while len(_takes_suffix) > TEMPLATES_REMEMBERED:
        _takes_suffix.popitem(last=False)


class OllamaBackend(Backend):
    label = "Ollama"
    default_base_url = "http://localhost:11434"

    def payload(
        self, prompt: FimPrompt, sampling: Sampling, template: FimTemplate | None = None
    ) -> dict[str, Any]:
        """Native FIM (`suffix`), or with `template` the family's FIM prompt, raw."""
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
        if template is not None:
            payload["prompt"] = template.render(prompt)
            payload["raw"] = True  # our FIM tokens, not the model's template
            options["stop"] = merge_stops(template.stop, sampling.stop, None)
        elif suffix:
            payload["suffix"] = suffix  # Ollama applies the model's FIM template
        else:
            payload["raw"] = True  # plain continuation, no chat template
        return payload

    async def takes_suffix(self) -> bool | None:
        """Whether the model's template uses `.Suffix` (`POST /api/show`), remembered per
        server; None when Ollama could not tell."""
        server = (self.base_url, self.settings.model)
        if server in _takes_suffix:
            _takes_suffix.move_to_end(server)
            return _takes_suffix[server]
        try:
            request = self.client.build_request(
                "POST", f"{self.base_url}/api/show", json={"model": self.settings.model}
            )
            response = await self.send(request, stream=False)
            template = response.json().get("template") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        if not isinstance(template, str):
            return None
        _remember(server, ".Suffix" in template)
        return _takes_suffix[server]

    async def fim_template(self, prompt: FimPrompt) -> FimTemplate | None:
        """The family template to send raw, for a suffix the model's template would drop."""
        if not prompt.full_suffix:
            return None
        template = template_for(self.settings.fim_template, self.settings.model)
        if template is None or await self.takes_suffix() is not False:
            return None
        return template

    async def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        prompt = self.laid_out(prompt)  # a model filling in the middle, or close to one
        payload = self.payload(prompt, sampling, await self.fim_template(prompt))
        async with (
            self.post_stream("/api/generate", payload) as response,
            aclosing(response.aiter_lines()) as lines,
        ):
            async for line in lines:
                if not line.strip():
                    continue
                message = self.parse_json(line)
                text = message.get("response", "")
                yield text if isinstance(text, str) else ""
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
