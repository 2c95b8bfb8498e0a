"""Make the README's screenshots of real ghost text in JupyterLab.

    python docs/make_screenshot.py          # docs/ghost-text.png
    python docs/make_screenshot.py --local  # docs/local-ghost-text.png

Needs jupyter-ai, `pip install playwright` and /usr/bin/chromium. By default Jupyter AI's inline
completer and our `inline-ollama` provider, answered by the loopback fake Ollama
(tests/support/fake_backend.py); with `--local`, our own "AI inline" completer and the managed
local llama-server with the default small model (the `local` extra), status bar included.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.support.fake_backend import FakeBackend  # noqa: E402

OUT = REPO / "docs" / "ghost-text.png"
LOCAL_OUT = REPO / "docs" / "local-ghost-text.png"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MODEL = "inline-ollama:qwen2.5-coder:1.5b"
TOKEN = "screenshot"
TYPED = "totals = sales."
LOCAL_TYPED = "means = sales.groupby("
# tokens as qwen2.5-coder would stream them after `totals = sales.`
TOKENS = ['groupby', '("', 'region', '")', '["', 'revenue', '"]', '.sum', '()', '.sort', '_values',
          '(ascending', '=False', ')\n', 'totals', '.plot', '.bar', '(title', '="', 'Revenue',
          ' by', ' region', '")']  # fmt: skip
SETTINGS = {  # JUPYTERLAB_SETTINGS_DIR files: Jupyter AI's inline completer is off by default
    "completer-extension/inline-completer": {
        "providers": {"@jupyterlab/jupyter-ai": {"enabled": True}}
    },
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_files(tmp: Path, local: bool) -> None:
    for name, value in SETTINGS.items():
        if local and name == "completer-extension/inline-completer":
            continue  # our own completer only
        path = tmp / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    cells = [
        nbformat.v4.new_markdown_cell("## Revenue by region"),
        nbformat.v4.new_code_cell('import pandas as pd\n\nsales = pd.read_csv("sales.csv")'),
        nbformat.v4.new_code_cell(""),
    ]
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel})
    (tmp / "root").mkdir()
    nbformat.write(notebook, tmp / "root" / "sales.ipynb")


def jupyter_ai_args(backend_url: str) -> list[str]:
    params = json.dumps({MODEL: {"base_url": backend_url}})
    return [
        f"--AiExtension.default_completions_model={MODEL}",
        f"--AiExtension.model_parameters={params}",
        "--AiExtension.enable_dask_dashboard=True",
    ]


LOCAL_ARGS = ["--JupyterAIInline.local_server=on"]


def start_lab(tmp: Path, port: int, lab_args: list[str]) -> subprocess.Popen:
    env = os.environ | {
        "HOME": str(tmp),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
    }
    args = [f"--port={port}", f"--ServerApp.token={TOKEN}", "--ServerApp.allow_root=True"]
    args += lab_args
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", *args]
    log = open(tmp / "lab.log", "wb")  # noqa: SIM115
    lab = subprocess.Popen(cmd, cwd=tmp / "root", env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and lab.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=2)
            return lab
        except OSError:
            time.sleep(0.3)
    lab.kill()
    raise RuntimeError(f"JupyterLab did not start:\n{(tmp / 'lab.log').read_text()[-3000:]}")


def ghost_text_from_fake(page: Page) -> None:
    page.keyboard.type(TYPED, delay=60)
    page.locator(".jp-GhostText").filter(has_text="Revenue by region").wait_for()


def ghost_text_from_local_model(page: Page) -> None:
    """Wait until the local model is ready (status bar: model and mode), then type."""
    status = page.locator(".jp-AIInline-status")
    status.filter(has_text="completion").or_(status.filter(has_text="infill")).wait_for(
        timeout=300_000  # the first start assembles the default model
    )
    page.keyboard.type(LOCAL_TYPED, delay=60)
    page.locator(".jp-GhostText").filter(has_text=re.compile(r"\w")).wait_for(timeout=60_000)
    page.locator(".jp-AIInline-status[data-state='idle']").wait_for()  # the stream finished


def shoot(port: int, tmp: Path, local: bool) -> None:
    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1100, "height": 650}, device_scale_factor=2)
        page.set_default_timeout(30_000)
        try:
            page.goto(f"http://127.0.0.1:{port}/lab/tree/sales.ipynb?token={TOKEN}")
            cell = page.locator(".jp-Notebook .jp-Cell").nth(2)
            cell.locator(".cm-content").wait_for()
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # status bar
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()  # hide
            cell.locator(".cm-content").click()
            (ghost_text_from_local_model if local else ghost_text_from_fake)(page)
            page.mouse.move(1, 600)  # hover shows the completer's toolbar over the code above
            page.wait_for_timeout(500)  # let it fade and the layout settle
            if local:  # the whole window: the status bar shows the model and its mode
                page.screenshot(path=LOCAL_OUT)
                return
            panel = page.locator(".jp-NotebookPanel").bounding_box()
            cell_box = cell.bounding_box()
            assert panel and cell_box
            height = cell_box["y"] + cell_box["height"] + 24 - panel["y"]
            page.screenshot(path=OUT, clip={**panel, "height": height})
        except Exception:
            page.screenshot(path=tmp / "failure.png")
            raise
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="the managed local model")
    local = parser.parse_args().local
    started = time.monotonic()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    fake = FakeBackend(tokens=TOKENS, first_token_delay=0.05, token_delay=0.01)
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    tmp, lab = Path(tempfile.mkdtemp(prefix="ghost-shot-")), None
    try:
        write_files(tmp, local)
        port = free_port()
        lab = start_lab(tmp, port, LOCAL_ARGS if local else jupyter_ai_args(fake.url))
        shoot(port, tmp, local)
    except BaseException:
        print(f"failed: see {tmp}/lab.log and {tmp}/failure.png", file=sys.stderr)
        raise
    finally:
        if lab is not None:
            lab.terminate()
            try:
                lab.wait(15)
            except subprocess.TimeoutExpired:
                lab.kill()
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
    shutil.rmtree(tmp, ignore_errors=True)
    if not local:
        prompts = [g.body.get("prompt", "") for g in fake.generations if g.path == "/api/generate"]
        assert any(p.endswith(TYPED) and "Revenue by region" in p for p in prompts), prompts
    out = LOCAL_OUT if local else OUT
    print(f"wrote {out.relative_to(REPO)} in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
