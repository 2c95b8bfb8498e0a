"""A real Python kernel driven as JupyterLab does: a user's cell, and the browser's silent
kernel summary (`src/kernel.ts`), with every wait bounded."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupyter_ai_inline

SUMMARY_SOURCE = Path(jupyter_ai_inline.__file__).with_name("kernel_summary.py")


def summary_code() -> str:
    """The code the browser executes: the summarizer's source run in a namespace of its own,
    so that nothing is added to the user's."""
    source = SUMMARY_SOURCE.read_text()
    return f"exec({json.dumps(source)}, {{'__name__': '__jupyter_ai_inline__'}})"


@dataclass
class Execution:
    reply: dict  # the `execute_reply` content
    stdout: str
    kinds: list[str]  # the IOPub message types it caused, in order


async def execute(client: Any, code: str, timeout: float, silent: bool = False) -> Execution:
    """Run `code` (a silent execution as the browser's summary: not in the history, not
    counted). A cell that raises is an `AssertionError` with its traceback's last line."""
    msg_id = client.execute(
        code, silent=silent, store_history=not silent, allow_stdin=False, stop_on_error=False
    )
    stdout: list[str] = []
    kinds: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await client.get_iopub_msg(timeout=max(deadline - loop.time(), 0.01))
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        kinds.append(kind)
        if kind == "stream" and content["name"] == "stdout":
            stdout.append(content["text"])
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = await client.get_shell_msg(timeout=max(deadline - loop.time(), 0.01))
    assert reply["parent_header"]["msg_id"] == msg_id
    content = reply["content"]
    assert content["status"] == "ok", content.get("traceback", [content])[-1]
    return Execution(content, "".join(stdout), kinds)


async def run_cell(client: Any, code: str, timeout: float = 30.0) -> dict:
    """A user's cell (in the history, counted): its `execute_reply` content."""
    return (await execute(client, code, timeout)).reply


async def summary(client: Any, timeout: float = 30.0) -> str:
    """The kernel summary's JSON line, asked for as the browser does."""
    return (await execute(client, summary_code(), timeout, silent=True)).stdout.strip()
