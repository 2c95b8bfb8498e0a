"""`JupyterAIInline`: the server extension and its settings (`c.JupyterAIInline.*`)."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Int, Unicode

from ..engine import aclose_clients
from .handlers import CompletionsHandler

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
    api_key = Unicode(
        None, allow_none=True, config=True,
        help="API key for OpenAI-compatible servers (default: $OPENAI_API_KEY). Never sent "
        "to the browser.",
    )  # fmt: skip
    suggestions = Int(1, config=True, help="Suggestions generated at once (1-5).")
    max_tokens = Int(128, config=True, help="Longest suggestion, in tokens.")
    context_above_chars = Int(6000, config=True, help="Characters of the cells above.")
    context_below_chars = Int(2000, config=True, help="Characters of the cells below.")
    include_outputs = Bool(False, config=True, help="Add short text outputs of cells above.")
    use_jupyter_ai_model = Bool(
        True, config=True,
        help="When Jupyter AI 2's inline completions model is one of ours, use it and its "
        "fields instead of these settings.",
    )  # fmt: skip
    max_message_bytes = Int(1_000_000, config=True, help="Largest message a browser may send.")
    max_requests_in_flight = Int(8, config=True, help="Requests one connection may run at once.")

    def initialize_handlers(self) -> None:
        self.handlers.append((rf"/{WEBSOCKET_PATH}", CompletionsHandler, {"app": self}))

    async def stop_extension(self) -> None:
        await aclose_clients()
