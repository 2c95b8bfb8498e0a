"""A stand-in `llama-server` for the supervisor's tests: a small Python script that records
its command line, may kill itself with SIGILL as llama-server does on a CPU whose repacked
kernels it cannot run, and otherwise answers `GET /health` with 200 on its `--host` and
`--port` (exit code 1 if it cannot bind, as llama-server)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from jupyter_ai_inline.local import LocalLlamaServer, supervisor

SigillWhen = Literal["never", "repacking", "always"]
"""When it kills itself with SIGILL: never, unless given `--no-repack`, or always."""

SCRIPT = """\
#!{python} -I
import faulthandler, json, os, resource, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

args = sys.argv[1:]
with open({calls!r}, "a") as calls:
    calls.write(json.dumps(args) + "\\n")
print("llama_model_loader: loaded meta data", flush=True)
sigill = {sigill!r}
if sigill == "always" or (sigill == "repacking" and "--no-repack" not in args):
    print("load_tensors: repacking weights", flush=True)
    faulthandler.disable()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGILL, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGILL)
host, port = args[args.index("--host") + 1], int(args[args.index("--port") + 1])


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{{"status":"ok"}}'
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


try:
    server = HTTPServer((host, port), Health)
except OSError:
    print(f"0.00.000.001 E srv  start: couldn't bind HTTP server socket, "
          f"hostname: {{host}}, port: {{port}}", flush=True)
    sys.exit(1)
print("main: server is listening", flush=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class StandIn:
    binary: Path
    calls_file: Path

    def calls(self) -> list[list[str]]:
        """The command line (without the program) of every start so far."""
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text().splitlines()]


def write_stand_in(directory: Path, sigill: SigillWhen = "never") -> StandIn:
    """An executable stand-in `llama-server` in `directory`."""
    calls = directory / "calls.jsonl"
    binary = directory / "llama-server"
    binary.write_text(SCRIPT.format(python=sys.executable, calls=str(calls), sigill=sigill))
    binary.chmod(0o755)
    return StandIn(binary, calls)


def gguf_file(directory: Path) -> Path:
    """A file our model check takes for a GGUF model (the stand-in never reads it)."""
    model = directory / "stand-in.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    return model


def use_stand_in(
    directory: Path, monkeypatch: pytest.MonkeyPatch, sigill: SigillWhen = "never"
) -> StandIn:
    """Every spawn of the supervisor runs a stand-in written to `directory`."""
    stand_in = write_stand_in(directory, sigill)
    monkeypatch.setattr(supervisor, "server_binary", lambda: stand_in.binary)
    return stand_in


def stand_in_server(directory: Path, **options: Any) -> LocalLlamaServer:
    """A supervisor (not started) of a stand-in model in `directory`."""
    return LocalLlamaServer(gguf_file(directory), startup_timeout=20, **options)


async def healthy(server: LocalLlamaServer) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{server.base_url}/health")).status_code == 200
