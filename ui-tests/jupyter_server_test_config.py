"""Server configuration for the browser tests (Galata).

!! Never use this configuration in production: it opens the server to the world (no token,
no XSRF check) and exposes JupyterLab's objects as `window.jupyterapp`.

Playwright's webServer (playwright.config.js) starts `jupyter lab --config` with this file, with
JUPYTER_DATA_DIR, JUPYTER_CONFIG_DIR, JUPYTERLAB_SETTINGS_DIR, ... pointing at a scratch
directory and JAI_FAKE_MODEL_URL at the fake model server (fake_model_server.py), or, with
JAI_UI_TEST_LOCAL_MODEL set to a GGUF file, the managed local llama-server serving it.
"""

import json
import os
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

if "JUPYTERLAB_GALATA_ROOT_DIR" in os.environ:
    os.makedirs(os.environ["JUPYTERLAB_GALATA_ROOT_DIR"], exist_ok=True)

configure_jupyter_server(c)

c.ServerApp.allow_root = True  # CI runs as root
c.FileContentsManager.delete_to_trash = False  # Galata deletes each test's folder
c.JupyterNotebookApp.expose_app_in_browser = True  # window.jupyterapp at /notebooks/ too
if os.environ.get("JAI_UI_TEST_HOME"):  # jupyter-collaboration's store, else ./.jupyter_ystore.db
    c.SQLiteYStore.db_path = os.path.join(os.environ["JAI_UI_TEST_HOME"], "ystore.db")

# Our server extension, even where the package's jupyter-config file is not installed
# (an editable install).
c.ServerApp.jpserver_extensions.update({"jupyter_ai_inline": True})

# JAI_UI_TEST_WITHOUT_JUPYTER_AI=1: run as if Jupyter AI were not installed (its server
# extension and labextension disabled), to check that ghost text does not depend on it.
if os.environ.get("JAI_UI_TEST_WITHOUT_JUPYTER_AI") and os.environ.get("JUPYTER_CONFIG_DIR"):
    c.ServerApp.jpserver_extensions.update({"jupyter_ai": False})
    _labconfig = Path(os.environ["JUPYTER_CONFIG_DIR"]) / "labconfig"
    _labconfig.mkdir(parents=True, exist_ok=True)
    _page_config = {"disabledExtensions": {"@jupyter-ai/core": True}}
    (_labconfig / "page_config.json").write_text(json.dumps(_page_config))

# Serve the working tree's build (`jupyter labextension build .` -> jupyter_ai_inline/labextension)
# ahead of any installed copy: the first directory holding an extension wins.
_build = REPO / "jupyter_ai_inline" / "labextension"
if (_build / "package.json").exists():
    _link_dir = Path(tempfile.mkdtemp(prefix="labext-", dir=os.environ.get("JAI_UI_TEST_HOME")))
    (_link_dir / "jupyter-ai-inline").symlink_to(_build, target_is_directory=True)
    _galata = c.LabServerApp.extra_labextensions_path  # a str, from Galata
    _galata = [_galata] if isinstance(_galata, str) else list(_galata)
    c.LabServerApp.extra_labextensions_path = [str(_link_dir), *_galata]

if os.environ.get("JAI_UI_TEST_LOCAL_MODEL"):
    # The local-model pass (tests/local_model.spec.ts): the managed llama-server with that file.
    c.JupyterAIInline.local_server = "on"
    c.JupyterAIInline.local_model_path = os.environ["JAI_UI_TEST_LOCAL_MODEL"]
    c.JupyterAIInline.local_ctx_size = 2048
    c.JupyterAIInline.local_parallel = 1
else:
    # The model: Ollama's API on the fake server, two suggestions so that cycling shows.
    c.JupyterAIInline.backend = "ollama"
    c.JupyterAIInline.base_url = os.environ.get("JAI_FAKE_MODEL_URL", "http://127.0.0.1:11435")
    c.JupyterAIInline.model = "fake-coder"
    c.JupyterAIInline.suggestions = 2

# Uncomment to set server log level to debug level
# c.ServerApp.log_level = "DEBUG"
