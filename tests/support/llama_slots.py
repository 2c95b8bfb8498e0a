"""What a running llama-server is doing: its slots, its token counters and how many tokens
a text has (used by the tests and the benchmarks)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

from tests.support.poll import until

# Closing a stream after a few pieces must stop the generation within a few tokens; without
# cancellation gemma goes on to its token limit or the 4 s time limit (~270 tokens here).
STOPPED_EARLY = 60

IDLE_POLL_SECONDS = 0.02


async def slots(base_url: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{base_url}/slots")
        response.raise_for_status()
        return response.json()


async def idle(base_url: str) -> bool:
    return not any(slot["is_processing"] for slot in await slots(base_url))


async def wait_until_idle(base_url: str, timeout: float = 20.0) -> float:
    """Seconds until no slot is processing (a dropped stream ends at the server's next
    token); `TimeoutError` if one is still busy after `timeout`."""
    what = "every llama-server slot idle"
    return await until(lambda: idle(base_url), timeout, IDLE_POLL_SECONDS, what)


async def metric(base_url: str, name: str) -> int:
    """A counter of llama-server's `/metrics` (needs `--metrics`), e.g. `prompt_tokens_total`."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{base_url}/metrics")
        response.raise_for_status()
    match = re.search(rf"^llamacpp:{name} (\S+)", response.text, re.M)
    assert match, f"no {name} in /metrics"
    return int(float(match.group(1)))


async def predicted_tokens(base_url: str) -> int:
    """Tokens generated since the server started, over all requests."""
    return await metric(base_url, "tokens_predicted_total")


async def prompt_tokens(base_url: str) -> int:
    """Prompt tokens evaluated since the server started (those from the cache not counted)."""
    return await metric(base_url, "prompt_tokens_total")


async def token_count(base_url: str, texts: Iterable[str]) -> int:
    """The tokens of `texts` in the server's model (`/tokenize`); an empty text has none."""
    total = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for text in filter(None, texts):
            response = await client.post(f"{base_url}/tokenize", json={"content": text})
            total += len(response.raise_for_status().json()["tokens"])
    return total
