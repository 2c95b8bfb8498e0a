"""The Python half of the browser section of `bench/speed.py`: time to ghost text in
JupyterLab, driven by `ghost_text.js` (Playwright, Debian's chromium).

It writes each task's two notebooks into a throw-away root, starts `jupyter lab` of this
Python with our extension and the managed local llama-server (the default model, its default
settings plus `--metrics`), runs `ghost_text.js` against it and turns what the page saw into
the tables. docs/benchmarks.md says what each case measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Verdict, markdown_table, percentile

BROWSER_SCRIPT = Path(__file__).with_name("ghost_text.js")
COLLABORATION_LAB_EXTENSIONS = (
    "@jupyter/collaboration-extension",
    "@jupyter/docprovider-extension",
)
GHOST_TARGET_MS = 500.0
BROWSER_BURST_TARGET = 1.3
CASES = {
    "a": "(a) focused 2 s before typing",
    "b": "(b) typing at once after Shift+Enter",
    "c": "(c) next keystroke, suggestion shown",
    "e": "(e) first cell clicked, notebook opened 10 s before",
}
WARMUP_CELL = {"cell_type": "code", "source": "import numpy as np\n"}
"""The warm-up's notebook: one unmeasured completion before the measured ones (the first
websocket request, the kernel's and llama-server's first work), on a context of its own."""


@dataclass(frozen=True)
class Case:
    """One task's two notebooks and what to type: the task's cell with its cut line empty
    (the cursor goes there) and, for (b), the lines before the cut line as a cell of their own
    (the cell above if none), run with Shift+Enter; both after the real cells above."""

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


def notebook_json(cells: Sequence[dict[str, str]]) -> dict[str, Any]:
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


def browser_cases(data: Path, count: int, context_chars: int, typed_chars: int) -> list[Case]:
    """Tasks whose cut line is not indented, with at least `context_chars` of cells above
    (nearest first until reached), one per notebook, in the file's order."""
    tasks, notebooks = harness.load_tasks(data)
    chosen: list[Case] = []
    seen: set[str] = set()
    for task in tasks:
        if len(chosen) >= count or task.notebook in seen:
            continue
        context: list[dict[str, str]] = []
        size = 0
        for cell in reversed(notebooks[task.notebook].cells[: task.cell_index]):
            if size >= context_chars:
                break
            if cell["cell_type"] in ("code", "markdown") and cell["source"].strip():
                context.insert(0, {"cell_type": cell["cell_type"], "source": cell["source"]})
                size += len(cell["source"])
        *head, cut = task.prefix.split("\n")
        line = cut + task.target
        if size < context_chars or line != line.lstrip() or len(line) <= typed_chars:
            continue
        after = task.suffix[1:].split("\n") if task.suffix else []
        own = {"cell_type": "code", "source": "\n".join([*head, "", *after])}
        run = [*context, {"cell_type": "code", "source": "\n".join(head)}] if head else context
        last = run[-1]["source"].split("\n")
        seen.add(task.notebook)
        chosen.append(
            Case(
                task=task.id,
                context_chars=size,
                cell_notebook=notebook_json([*context, own]),
                cell_index=len(context),
                line=len(head),
                typed=line[:typed_chars],
                next_char=line[typed_chars],
                run_notebook=notebook_json(run),
                run_line=len(last) - 1,
                run_column=len(last[-1]),
            )
        )
    return chosen


TASKS_PER_CASE = 3


def write_cases(root: Path, chosen: Sequence[Case]) -> list[dict[str, Any]]:
    """The notebooks as files of the server's root; the browser's part of the spec. Case i
    takes (a), (c), (d) from task 3i, (b) from task 3i+1 and (e) from task 3i+2: every sample
    starts on a context that llama-server's prompt cache has not seen."""
    specs = []
    for i in range(len(chosen) // TASKS_PER_CASE):
        own, run, opened = chosen[TASKS_PER_CASE * i : TASKS_PER_CASE * (i + 1)]
        names = {kind: f"task{i}-{kind}.ipynb" for kind in ("cell", "run", "opened")}
        (root / names["cell"]).write_text(json.dumps(own.cell_notebook))
        (root / names["run"]).write_text(json.dumps(run.run_notebook))
        (root / names["opened"]).write_text(json.dumps(opened.cell_notebook))
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
                "opened_task": opened.task,
                "opened_notebook": names["opened"],
                "opened_cells": len(opened.cell_notebook["cells"]),
                "opened_index": opened.cell_index,
                "opened_line": opened.line,
                "opened_typed": opened.typed,
            }  # fmt: skip
        )
    (root / "warmup.ipynb").write_text(json.dumps(notebook_json([WARMUP_CELL])))
    return specs


@contextlib.asynccontextmanager
async def jupyter_lab(
    workdir: Path,
    setting: str,
    model: Path,
    background: bool = True,
    server_options: Sequence[str] = (),
) -> AsyncIterator[str]:
    """`jupyter lab` with our extension and the managed model (its default settings plus
    `--metrics`, then `server_options`); in the `default` setting without
    jupyter-collaboration; the background warm-ups turned off in the user's settings unless
    `background`."""
    if not background:
        user = workdir / "settings" / "jupyter-ai-inline" / "plugin.jupyterlab-settings"
        user.parent.mkdir(parents=True, exist_ok=True)
        user.write_text(json.dumps({"backgroundWarmUps": False}))
    extensions = {"jupyter_ai_inline": True}
    disabled = {"@jupyterlab/apputils-extension:announcements": True}
    if setting == "default":
        extensions["jupyter_server_ydoc"] = False
        disabled.update(dict.fromkeys(COLLABORATION_LAB_EXTENSIONS, True))
    (workdir / "config" / "labconfig").mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": disabled}
    (workdir / "config" / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    options = [
        f"--ServerApp.jpserver_extensions={extensions!r}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
        f"--SQLiteYStore.db_path={workdir / 'ystore.db'}",
        "--JupyterAIInline.local_server=on", f"--JupyterAIInline.local_model_path={model}",
        "--JupyterAIInline.local_extra_args=--metrics", *server_options,
    ]  # fmt: skip
    folders = ("config", "data", "runtime", "settings", "workspaces")
    async with harness.jupyter("jupyterlab", workdir, options, folders) as url:
        yield url


async def run_browser(spec: dict[str, Any], workdir: Path, seconds: float) -> dict[str, Any]:
    """`ghost_text.js` in its own process group, killed with its chromium at the timeout."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    spec_path, result_path = workdir / "spec.json", workdir / "result.json"
    spec_path.write_text(json.dumps(spec))
    process = await asyncio.create_subprocess_exec(
        node, str(BROWSER_SCRIPT), str(spec_path), str(result_path),
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    code: int | None = None
    try:
        code = await asyncio.wait_for(process.wait(), seconds)
    except TimeoutError:
        print(f"the browser run took over {seconds:.0f} s: stopped", file=sys.stderr)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    result = json.loads(result_path.read_text()) if result_path.exists() else {"cases": []}
    if code != 0:
        result.setdefault("errors", []).append(f"browser script ended with {code}")
    return result


async def browser_setting(
    setting: str, chosen: list[Case], args: argparse.Namespace, model: Path, left: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-browser-{setting}-") as tmp:
        workdir = Path(tmp)
        (workdir / "root").mkdir()
        specs = write_cases(workdir / "root", chosen)
        async with jupyter_lab(
            workdir, setting, model, args.background_warm_ups, args.server_option
        ) as url:
            spec = {
                "setting": setting, "url": url, "token": harness.TOKEN, "chromium": args.chromium,
                "cases": specs,
                "warmup": {"notebook": "warmup.ipynb", "line": 1, "typed": "values = np."},
                "focus_delay_ms": args.focus_delay_ms, "key_delay_ms": args.key_delay_ms,
                "along_chars": args.along_chars, "along_delay_ms": args.along_delay_ms,
                "along_tail_ms": 500, "sample_ms": args.sample_ms, "settle_ms": 500,
                "ghost_timeout_s": args.ghost_timeout, "idle_timeout_s": 60,
                "ready_timeout_s": 300, "opened_delay_ms": args.opened_delay_ms,
            }  # fmt: skip
            result = await run_browser(spec, workdir, left)
        if args.keep_log or result.get("errors"):
            tail = (workdir / "jupyter.log").read_text(errors="replace").splitlines()[-30:]
            print("\n".join(["<!-- jupyter log, last lines:", *tail, "-->"]), file=sys.stderr)
    result["chosen"] = [{"task": c.task, "context_chars": c.context_chars} for c in chosen]
    return result


async def measure(args: argparse.Namespace, started: float) -> dict[str, dict[str, Any]]:
    model = await asyncio.to_thread(harness.default_model, args.gguf)
    wanted = TASKS_PER_CASE * args.tasks
    chosen = browser_cases(args.data, wanted, args.context_chars, args.typed_chars)
    if len(chosen) < wanted:
        print(f"only {len(chosen)} tasks fit ({TASKS_PER_CASE} per measured task)", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    for setting in ["default", "collaboration"] if args.collaboration else ["default"]:
        left = args.timeout - (time.perf_counter() - started)
        if left <= 60:
            print(f"no time left for the {setting} setting", file=sys.stderr)
            break
        results[setting] = await browser_setting(setting, chosen, args, model, left)
    return results


def samples_of(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [case[key] for case in result["cases"] if key in case]


def latency_row(setting: str, key: str, samples: list[dict[str, Any]], tasks: int) -> list[Any]:
    times = [s["key_to_ghost_ms"] for s in samples if s["key_to_ghost_ms"] is not None]
    generated = sum(s["server"]["predicted"] or 0 for s in samples)
    shown = sum(s["tokens_shown"] for s in samples)
    median = harness.median
    return [
        setting, CASES[key], f"{len(times)}/{tasks}", percentile(times, 50),
        percentile(times, 90), median([s.get("key_to_request_ms") for s in samples]),
        median([s.get("request_to_first_text_ms") for s in samples]),
        median([s.get("first_text_to_ghost_ms") for s in samples]),
        median([s["server"]["prompt_tokens"] for s in samples]),
        median([(s["server"]["prompt_seconds"] or 0) * 1000 for s in samples]),
        statistics.fmean([s["requests_total"] for s in samples]) if samples else None,
        generated / shown if shown else None,
        sum(s.get("stale_ghost_ms") is not None for s in samples),
    ]  # fmt: skip


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[Verdict]:
    background = "on" if args.background_warm_ups else "off"
    model = args.gguf.name if args.gguf else "gemma 3 270M"
    options = "".join(f"; {option}" for option in args.server_option)
    print(
        f"## Last keystroke -> visible ghost text ({model}, managed llama-server{options}; "
        f"{args.typed_chars} characters typed {args.key_delay_ms} ms apart; background "
        f"warm-ups {background})\n"
    )
    headers = [
        "setting", "case", "shown", "p50 ms", "p90 ms", "key -> request ms",
        "request -> first text ms", "first text -> ghost ms", "prompt tokens evaluated",
        "prompt eval ms", "requests", "generated/shown", "stale ghost text",
    ]  # fmt: skip
    rows = []
    verdicts: list[Verdict] = []
    for setting, result in results.items():
        tasks = len(result["cases"])
        for key in CASES:
            samples = samples_of(result, key)
            row = latency_row(setting, key, samples, tasks)
            rows.append(row)
            if key in "abe":
                p50 = row[3]
                verdicts.append(
                    Verdict(
                        f"{setting}: {CASES[key]}: p50 <= {GHOST_TARGET_MS:.0f} ms",
                        p50 is not None and p50 <= GHOST_TARGET_MS and len(samples) == tasks,
                        f"p50 {p50 if p50 is None else round(p50)} ms, {row[2]} shown",
                    )
                )
    print(markdown_table(headers, rows) + "\n")
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
        f"## (d) Typing along the suggestion: its first {args.along_chars} characters (all "
        f"but the last of a shorter one) "
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
            Verdict(
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
            Verdict(
                f"{setting}: typing burst (a): generated/shown <= {BROWSER_BURST_TARGET}",
                ratio is not None and ratio <= BROWSER_BURST_TARGET,
                f"{generated} generated / {shown} shown",
            )
        )
    print(markdown_table(headers, rows) + "\n")
    for setting, result in results.items():
        chars = [c["context_chars"] for c in result.get("chosen", [])]
        focus = [s.get("shift_enter_to_focus_ms") for s in samples_of(result, "b")]
        print(
            f"- {setting}: {result.get('model')} ({result.get('mode')}), ready after "
            f"{result.get('ready_s', 0):.1f} s; context sources seen in the status: "
            f"{', '.join(map(str, result.get('contexts', []))) or '-'}; characters of cells "
            f"above: {min(chars, default=0)}-{max(chars, default=0)}; Shift+Enter -> new "
            f"cell focused: median {harness.median(focus) or 0:.0f} ms"
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
