"""A real `jupyter server` with our extension, and a browser tab's websocket to it.

Used by `bench_local.py` (section 1) to time our completions endpoint the way the browser
reaches it. The server is a subprocess on a free 127.0.0.1 port, with token auth, throw-away
config, data and runtime directories (so no user setting, e.g. a Jupyter AI completions
model, picks another model), no local llama-server of its own (`local_server=off`) and our
`llamacpp` backend pointed at the benchmark's llama-server. The installed server extensions
(JupyterLab, Jupyter AI, ...) load too, as in a user's Jupyter.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from bench.harness import isolated_jupyter
from jupyter_ai_inline.local import die_with_parent, free_port
from jupyter_ai_inline.server.app import WEBSOCKET_PATH
from tests.support.poll import until
from tests.support.ws_client import Client

TOKEN = secrets.token_hex(16)
AUTH = {"Authorization": f"token {TOKEN}"}
STARTUP_TIMEOUT = 90.0  # s, Jupyter importing its extensions on 2 busy cores
STOP_TIMEOUT = 10.0  # s, after SIGTERM, then SIGKILL
RECEIVE_TIMEOUT = 30.0  # s, one websocket message


@contextlib.asynccontextmanager
async def jupyter_server(
    llama_url: str, workdir: Path, config: Mapping[str, Any] | None = None
) -> AsyncIterator[str]:
    """Run Jupyter with our extension talking to `llama_url` (and `config` in its
    `jupyter_server_config.json`, e.g. `{"JupyterAIInline": {...}}`); yield its base URL. The
    process is terminated on the way out, whatever happened."""
    dirs, env = isolated_jupyter(workdir, "config", "data", "runtime")
    if config:
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config, indent=2))
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={dirs['root']}", f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.jpserver_extensions={'jupyter_ai_inline': True}",
        "--JupyterAIInline.local_server=off", "--JupyterAIInline.backend=llamacpp",
        f"--JupyterAIInline.base_url={llama_url}",
    ]  # fmt: skip
    log_path = workdir / "jupyter.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            # no orphan if the benchmark is killed outright
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_answering(process, url, log_path)
        yield url
    finally:
        await terminate(process)


async def wait_answering(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    async with httpx.AsyncClient(timeout=2.0, headers=AUTH) as client:

        async def answering() -> bool:
            if process.returncode is not None:
                text = await asyncio.to_thread(log.read_text, errors="replace")
                tail = text.splitlines()[-20:]
                raise RuntimeError(
                    f"jupyter server exited with code {process.returncode}:\n" + "\n".join(tail)
                )
            with contextlib.suppress(httpx.HTTPError):
                return (await client.get(f"{url}/api/status")).status_code == 200
            return False

        await until(answering, STARTUP_TIMEOUT, 0.2, "jupyter server answering")


async def terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


class Tab(Client):
    """A browser tab's completions websocket; every wait is bounded."""

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls, jupyter_url: str, max_tokens: int, until_mode: bool = True
    ) -> AsyncIterator[Tab]:
        """Connect, set `maxTokens`, and wait until the status names the llama.cpp mode
        (the extension probes it), so no timed request waits for the probe; a model server
        that answers no probe (busy) has none: `until_mode=False`."""
        ws_url = jupyter_url.replace("http", "ws", 1) + "/" + WEBSOCKET_PATH
        connection = await asyncio.wait_for(
            websocket_connect(HTTPRequest(ws_url, headers=AUTH)), RECEIVE_TIMEOUT
        )
        tab = cls(connection, RECEIVE_TIMEOUT)
        try:
            tab.send(type="configure", settings={"maxTokens": max_tokens})
            if until_mode:
                await asyncio.wait_for(tab.until_mode(), RECEIVE_TIMEOUT)
            yield tab
        finally:
            tab.close()

    async def until_mode(self) -> None:
        while (status := await self.receive())["type"] != "status" or status["mode"] is None:
            pass

    async def first_text(self, number: int, prefix: str, suffix: str) -> float:
        """Seconds from sending a request to the first stream chunk with text (or to its
        `done` chunk if it shows none); then reads until every suggestion is done."""
        started = time.perf_counter()
        self.request(number, prefix=prefix, suffix=suffix, mime="text/x-python")
        first: float | None = None
        suggestions: int | None = None
        done = 0
        while suggestions is None or done < suggestions:
            message = await self.receive()
            if message.get("reply_to") != number:
                continue  # a status update
            if message.get("error"):
                raise RuntimeError(message["error"]["title"])
            if message["type"] == "reply":
                suggestions = len(message["list"]["items"])
            elif message["type"] == "stream":
                # the full text so far, rebuilt from the deltas as the browser does
                if first is None and (message["response"]["insertText"] or message["done"]):
                    first = time.perf_counter() - started
                done += message["done"]
        assert first is not None, "the endpoint showed no text"
        return first
