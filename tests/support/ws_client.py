"""A browser tab's side of our completions websocket, for tests on a pytest-jupyter server."""

import asyncio
import json

ENDPOINT = ("jupyter-ai-inline", "completions")


class Client:
    """A browser tab's websocket, reading with bounded waits."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.texts: dict[str, str] = {}
        """Each token's full text, rebuilt from the chunks' deltas as the browser does."""
        self.received_bytes = 0

    def send(self, **message) -> None:
        self.socket.write_message(json.dumps(message))

    async def receive(self) -> dict:
        """The next message; a stream chunk with its full text so far in `insertText`."""
        raw = await asyncio.wait_for(self.socket.read_message(), timeout=10)
        assert raw is not None, "websocket closed"
        self.received_bytes += len(raw.encode())
        message = json.loads(raw)
        if message["type"] == "stream" and message.get("keep") is not None:
            response = message["response"]
            text = self.texts.get(response["token"], "")[: message["keep"]]
            response["insertText"] = self.texts[response["token"]] = text + response["insertText"]
        return message

    async def until_done(self, number: int, tokens: int) -> list[dict]:
        """Messages until every token of request `number` is done."""
        messages: list[dict] = []
        while sum(m.get("done", False) and m["reply_to"] == number for m in messages) < tokens:
            messages.append(await self.receive())
        return messages


async def connect(jp_ws_fetch) -> Client:
    """Open a tab's websocket; the server greets it with the model's status."""
    tab = Client(await jp_ws_fetch(*ENDPOINT))
    status = await tab.receive()
    assert status["type"] == "status"
    return tab


def request(number: int, **fields) -> dict:
    return {
        "type": "request",
        "number": number,
        "prefix": "x = ",
        "suffix": "",
        "mime": "text/x-ipython",
    } | fields  # noqa: E501
