"""A browser tab's side of a completions websocket: ours, or Jupyter AI's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.completion import request

ENDPOINT = ("jupyter-ai-inline", "completions")
RECEIVE_TIMEOUT = 10.0  # s, one message


class Client:
    """A browser tab's websocket (a tornado client connection), reading with bounded waits.

    Every stream chunk comes back with its suggestion's full text so far in `insertText`:
    ours carry `keep` and a delta, rebuilt as the browser does; a chunk without `keep`
    (Jupyter AI's websocket) carries the full text already."""

    def __init__(self, socket, timeout: float = RECEIVE_TIMEOUT) -> None:
        self.socket = socket
        self.timeout = timeout
        self.texts: dict[str, str] = {}
        """Each token's full text."""
        self.received_bytes = 0

    def send(self, **message: Any) -> None:
        self.socket.write_message(json.dumps(message))

    def request(self, number: int, **fields: Any) -> None:
        """Send our websocket's `request` message (`completion.request`'s fields)."""
        self.send(type="request", **request(number, **fields))

    async def receive(self) -> dict[str, Any]:
        """The next message; a stream chunk with its full text so far in `insertText`."""
        raw = await asyncio.wait_for(self.socket.read_message(), timeout=self.timeout)
        assert raw is not None, "websocket closed"
        self.received_bytes += len(raw.encode())
        message = json.loads(raw)
        if message.get("type") == "stream":
            response = message["response"]
            if message.get("keep") is not None:
                kept = self.texts.get(response["token"], "")[: message["keep"]]
                response["insertText"] = kept + response["insertText"]
            self.texts[response["token"]] = response["insertText"]
        return message

    async def until_done(self, number: int | None, tokens: int) -> list[dict[str, Any]]:
        """Messages until `tokens` done chunks of request `number` (None: of any request)."""
        messages: list[dict[str, Any]] = []
        done = 0
        while done < tokens:
            messages.append(message := await self.receive())
            if message.get("done") and (number is None or message["reply_to"] == number):
                done += 1
        return messages

    def close(self) -> None:
        self.socket.close()


def llamacpp_server_config(port: int, **settings: Any) -> dict[str, Any]:
    """`jp_server_config` of a Jupyter server with our extension and its `llamacpp` backend
    at a (fake) model server on `port`, no local model; `settings` add to ours."""
    inline = {"backend": "llamacpp", "base_url": f"http://127.0.0.1:{port}", "local_server": "off"}
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ai_inline": True}},
        "JupyterAIInline": inline | settings,
    }


async def connect(jp_ws_fetch) -> Client:
    """Open a tab's websocket to our endpoint; the server greets it with the model's status."""
    tab = Client(await jp_ws_fetch(*ENDPOINT))
    status = await tab.receive()
    assert status["type"] == "status"
    return tab
