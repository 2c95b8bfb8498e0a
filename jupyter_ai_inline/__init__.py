"""AI ghost-text completions for JupyterLab and Notebook 7."""

__version__ = "0.1.0"
