"""Which installed model the managed server runs when none is named (`local_model = "auto"`),
and how much of the notebook its prompts take: the largest model whose cold prompt, with enough
context to be worth it, this machine evaluates within a time budget; its context budget is
then what fits that time.

The first start with a model measures how fast its `llama-server` evaluates a prompt (two
short requests) and remembers it in the cache directory, per model, CPU and server arguments
(unless the machine was busy: then the next start measures again); later starts read it.
The smallest installed model is always taken, unmeasured, with the default budget.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import httpx

from . import cpu
from .catalog import CatalogModel
from .model_file import DEFAULT_CACHE_DIR

log = logging.getLogger(__name__)

PROMPT_TOKENS = 2000
"""A cold prompt at the default context budget (6,000 + 2,000 characters of other cells)."""
PROMPT_SECONDS = 2.0
"""What evaluating a cold prompt may take."""
MIN_PROMPT_TOKENS = 300
"""The least context worth a larger model: Qwen2.5-Coder 0.5B's prompts of about 300 tokens
(800 + 300 characters of other cells) beat gemma 3 270M's of 1,460 (docs/benchmarks.md,
"Models and budgets")."""
CHARS_PER_TOKEN = 4
"""Characters of notebook code per token, as the default budget assumes."""
BELOW_SHARE = 0.25
"""The part of a budget taken by the cells below (2,000 of 8,000 by default; a model's best
budget keeps its own)."""
MEASURE_LINES = 24
"""Lines of the measured prompt (about 350 tokens)."""
MEASURE_TOKENS = 256
MEASURE_SECONDS = 10.0
"""Long enough for a model 40 times too slow; the time a first start may spend on it."""
WARM_TIMEOUT = 60.0
SPEEDS_FILE = "speeds.json"


def measured_prompt() -> str:
    """A deterministic stretch of notebook-like code."""
    return "\n".join(
        f"frame_{n} = data.loc[data['group'] == {n}, ['value_{n % 7}', 'weight']].mean()  # {n}"
        for n in range(MEASURE_LINES)
    )


def busy() -> bool:
    """Whether other work ran on every core during the last minute: a speed measured then is
    not remembered."""
    return os.getloadavg()[0] >= (os.cpu_count() or 1) + 1


def fits(tokens_per_second: float) -> bool:
    """Whether a cold prompt of `MIN_PROMPT_TOKENS` takes at most `PROMPT_SECONDS`."""
    return tokens_per_second * PROMPT_SECONDS >= MIN_PROMPT_TOKENS


def context_budget(
    tokens_per_second: float | None, best: tuple[int, int] | None = None
) -> tuple[int, int] | None:
    """The characters of cells (above, below) whose cold prompt a model evaluating
    `tokens_per_second` takes within `PROMPT_SECONDS`, at most the model's `best` budget;
    None: the default budget (it fits, or the speed is unknown, and the model has no best)."""
    if tokens_per_second is None or tokens_per_second * PROMPT_SECONDS >= PROMPT_TOKENS:
        return best
    chars = int(tokens_per_second * PROMPT_SECONDS * CHARS_PER_TOKEN)
    if best is not None and chars >= sum(best):
        return best
    share = BELOW_SHARE if best is None else best[1] / sum(best)
    below = round(chars * share, -2)
    return int(round(chars - below, -2)), int(below)


def describe(budget: tuple[int, int] | None) -> str:
    """A budget for the log."""
    if budget is None:
        return "the default"
    return f"{budget[0]:,} + {budget[1]:,} characters of other cells"


async def prompt_speed(base_url: str, slot_tokens: int) -> float:
    """Prompt tokens per second of the server at `base_url`, from llama-server's own timings
    of an uncached prompt of up to `MEASURE_TOKENS` (cut to fit a slot of `slot_tokens`),
    after a short one that pages the weights in. A measurement slower than
    `MEASURE_SECONDS` gives the speed it would at least have needed (too slow anyway)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=WARM_TIMEOUT) as client:
        response = await client.post("/tokenize", json={"content": measured_prompt()})
        response.raise_for_status()
        tokens = response.json()["tokens"][: max(min(MEASURE_TOKENS, slot_tokens - 16), 16)]
        body = {"n_predict": 1, "cache_prompt": False}
        response = await client.post("/completion", json={**body, "prompt": tokens[:8]})
        response.raise_for_status()
        try:
            response = await client.post(
                "/completion", json={**body, "prompt": tokens}, timeout=MEASURE_SECONDS
            )
        except httpx.TimeoutException:
            return len(tokens) / MEASURE_SECONDS
        response.raise_for_status()
        return float(response.json()["timings"]["prompt_per_second"])


class Speeds:
    """Measured prompt speeds, in a small JSON file; unreadable or missing is empty."""

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.path = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / SPEEDS_FILE

    @functools.cached_property
    def cpu(self) -> str:
        """This CPU's model name and core count (reads /proc/cpuinfo once: blocking)."""
        name = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpu.read_cpuinfo().splitlines()
                if line.startswith("model name")
            ),
            "unknown CPU",
        )
        return f"{name} x{os.cpu_count()}"

    def key(self, model: CatalogModel, threads: int | None, extra_args: Sequence[str]) -> str:
        """The model, this CPU and what changes the server's speed. Blocking the first time."""
        arguments = " ".join(extra_args)
        return f"{model.name} | {self.cpu} | threads {threads or 'all'} | {arguments}"

    def read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}

    def get(self, key: str) -> float | None:
        return self.read().get(key)

    def put(self, key: str, speed: float) -> None:
        data = {**self.read(), key: round(speed, 1)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data, indent=1, sort_keys=True))
        except OSError as exc:
            log.warning("Cannot remember the model's speed in %s: %s", self.path, exc.strerror)
