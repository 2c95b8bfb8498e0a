"""A model server that says it is overloaded (429/503) gets a pause: no storm of retries
from the typing users of a Jupyter server, a readable "busy" error meanwhile."""

from typing import Any

import pytest

from jupyter_ai_inline.engine import limits
from jupyter_ai_inline.engine.errors import BackendBusy
from jupyter_ai_inline.engine.limits import GenerationLimit
from tests.support.completion import request
from tests.support.fake_backend import FakeBackend
from tests.support.poll import until
from tests.support.ws_client import Client, connect, llamacpp_server_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def backend_port(unused_tcp_port_factory) -> int:
    return unused_tcp_port_factory()


@pytest.fixture
def jp_server_config(backend_port: int) -> dict:
    return llamacpp_server_config(backend_port, warm_up="on")


async def suggestion(client: Client, number: int, **fields: Any) -> dict[str, Any]:
    """The done chunk of request `number`'s one suggestion."""
    client.request(number, path="analysis.ipynb", cell_id=f"cell-{number}", **fields)
    messages = await client.until_done(number, 1)
    return next(m for m in messages if m.get("done") and m["reply_to"] == number)


async def test_an_overloaded_server_is_not_asked_again_before_its_retry_after(
    jp_ws_fetch, backend_port
) -> None:
    async with FakeBackend(port=backend_port, fail_status=429, retry_after="1") as backend:
        client = await connect(jp_ws_fetch)
        first = await suggestion(client, 1)
        assert first["error"]["type"] == "BackendBusy"
        assert first["error"]["title"].endswith("is busy (429): retry after 1 s")
        asked = len(backend.requests)
        for number in range(2, 6):  # the user types on: four more requests
            paused = await suggestion(client, number, prefix=f"x{number} = ")
            assert paused["error"]["type"] == "BackendBusy"
            assert "asking it again in 1 s" in paused["error"]["title"]
        client.send(type="warm", **request(9, path="analysis.ipynb", cell_id="cell-9"))
        warmed = await client.receive()
        assert warmed == {"type": "warmed", "reply_to": 9, "ms": None, "skipped": "busy"}
        assert len(backend.requests) == asked  # none of them reached the server
        backend.fail_status = None

        async def answers() -> bool:
            done = await suggestion(client, 7, prefix="y = ")
            return done["error"] is None

        await until(answers, 5, 0.2, "the server is asked again after its pause")
        assert await answers()  # and it stays so: the pause is over


def test_pauses_double_without_retry_after_up_to_a_bound(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    limit = GenerationLimit(2)
    url = "http://gpu-box:8000/v1"
    pauses = []
    for _ in range(8):
        limit.overloaded(url)
        start = now[0]
        while limit.backoff_left(url) > 0:
            with pytest.raises(BackendBusy):
                limit.check_backoff(url)
            now[0] += 0.5
        pauses.append(now[0] - start)
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    limit.overloaded(url, retry_after=3600)  # a server's Retry-After is capped too
    assert limit._backoff[url][1] == limits.MAX_BACKOFF
    limit.recovered(url)
    limit.check_backoff(url)  # no pause after an answer
    limit.overloaded(url)
    assert limit._backoff[url][1] == 1.0  # and the next pause starts small again
