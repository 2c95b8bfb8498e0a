"""What a running llama-server is doing: its slots and how many tokens it has generated."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

# Closing a stream after a few pieces must stop the generation within a few tokens; without
# cancellation gemma goes on to its token limit or the 4 s time limit (~270 tokens here).
STOPPED_EARLY = 60


async def slots(base_url: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{base_url}/slots")
        response.raise_for_status()
        return response.json()


async def wait_until_idle(base_url: str) -> float:
    """Seconds until no slot is processing (bounded: fails after 20 s)."""
    started = time.monotonic()
    for _ in range(400):
        if not any(slot["is_processing"] for slot in await slots(base_url)):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    pytest.fail("a slot stayed busy 20 s after its stream was closed")


async def predicted_tokens(base_url: str) -> int:
    """Tokens generated since the server started, over all requests (needs `--metrics`)."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{base_url}/metrics")
        response.raise_for_status()
    match = re.search(r"^llamacpp:tokens_predicted_total (\d+)", response.text, re.M)
    assert match, "no tokens_predicted_total in /metrics"
    return int(match.group(1))
