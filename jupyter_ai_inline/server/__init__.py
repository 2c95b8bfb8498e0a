"""The Jupyter server extension: our own completions websocket for the frontend."""
