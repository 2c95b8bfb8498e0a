"""AI ghost-text completions for JupyterLab and Notebook 7."""

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict]:
    from .server.app import JupyterAIInline

    return [{"module": "jupyter_ai_inline.server.app", "app": JupyterAIInline}]


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextension", "dest": "jupyter-ai-inline"}]
