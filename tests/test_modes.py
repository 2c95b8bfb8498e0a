"""llama.cpp's mode, learned per server URL, is relearned and bounded (issue 19, item 5): a
server restarted at the same URL with another model keeps serving suggestions and the status
follows it; browser-chosen URLs cannot pile up modes or probes."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from jupyter_ai_inline.engine import (
    BackendSettings,
    FimPrompt,
    InlineCompleter,
    LlamaCppBackend,
    Sampling,
    aclose_clients,
)
from jupyter_ai_inline.engine.backends.llamacpp import MAX_PROBES, MODES_REMEMBERED, LlamaModes
from jupyter_ai_inline.engine.errors import BackendBusy
from jupyter_ai_inline.engine.limits import GenerationLimit
from jupyter_ai_inline.engine.models import CompletionRequest
from jupyter_ai_inline.server.choice import AdminSettings
from jupyter_ai_inline.server.service import CompletionService
from tests.support.fake_backend import FakeBackend
from tests.support.poll import until

pytestmark = pytest.mark.asyncio

REQUEST = CompletionRequest(prefix="x = ", suffix="\nprint(x)", path="a.ipynb", cell_id="c")
PROMPT = FimPrompt(prefix=REQUEST.prefix, suffix=REQUEST.suffix)


@pytest_asyncio.fixture
async def service() -> AsyncIterator[CompletionService]:
    service = CompletionService(AdminSettings(backend="llamacpp"), GenerationLimit(4))
    yield service
    await service.stop()
    await aclose_clients()


class Tab:
    """A completions websocket's view: one completer for the chosen llama.cpp server, and
    the modes its status showed each time the service told it a status changed."""

    def __init__(self, service: CompletionService, url: str) -> None:
        self.service = service
        self.config = service.config({"backend": "llamacpp", "model": "m", "base_url": url})
        self.completer: InlineCompleter = service.completer(self.config)
        self.heard: list[str | None] = []
        service.changes.subscribe(lambda: self.heard.append(self.mode))

    @property
    def mode(self) -> str | None:
        return self.service.status(self.config, "settings", self.completer.backend)["mode"]

    async def suggest(self) -> str:
        """The suggestion the user sees; the test fails on an error."""
        prompt = self.completer.prompt(REQUEST)
        updates = [update async for update in self.completer.stream(REQUEST, prompt)]
        assert updates[-1].done and updates[-1].error is None, updates[-1].error
        return updates[-1].text


def paths(fake: FakeBackend) -> list[str]:
    return [request.path for request in fake.requests]


async def first_suggestion(service: CompletionService, fake: FakeBackend, fim: bool) -> Tab:
    """A tab on `fake` serving a model with FIM tokens or without, after its first suggestion:
    the mode is learned."""
    fake.llamacpp_fim = fim
    tab = Tab(service, fake.url)
    assert await tab.suggest() == "abc" and tab.mode == ("infill" if fim else "completion")
    return tab


async def test_a_server_restarted_without_fim_tokens_is_served_through_completion(
    fake: FakeBackend, service: CompletionService
) -> None:
    tab = await first_suggestion(service, fake, fim=True)
    fake.llamacpp_fim = False  # restarted at the same URL with a model without FIM tokens
    assert await tab.suggest() == "abc"  # that request went on to /completion
    assert await tab.suggest() == "abc"
    assert paths(fake) == ["/infill", "/infill", "/completion", "/completion"]
    assert tab.mode == "completion" and tab.heard == ["infill", "completion"]


async def test_a_server_back_with_fim_tokens_goes_back_to_infill_in_time(
    fake: FakeBackend, service: CompletionService
) -> None:
    tab = await first_suggestion(service, fake, fim=False)
    fake.llamacpp_fim = True  # restarted with a FIM model
    assert await tab.suggest() == "abc"  # the mode is fresh: /completion
    service.llama_modes.recheck = 0.0  # as if `RECHECK_SECONDS` had passed
    assert await tab.suggest() == "abc"
    assert await tab.suggest() == "abc"
    assert paths(fake) == ["/infill", "/completion", "/completion", "/infill", "/infill"]
    assert tab.mode == "infill" and tab.heard == ["completion", "infill"]


async def test_a_server_that_was_unreachable_is_asked_for_infill_again(
    fake: FakeBackend, service: CompletionService
) -> None:
    tab = await first_suggestion(service, fake, fim=False)
    fake.port = int(fake.url.rsplit(":", 1)[1])
    await fake.stop()
    prompt = tab.completer.prompt(REQUEST)
    updates = [update async for update in tab.completer.stream(REQUEST, prompt)]
    assert updates[-1].error is not None and "Cannot reach" in updates[-1].error.title
    fake.llamacpp_fim = True
    await fake.start()  # back at the same URL, with a FIM model
    assert await tab.suggest() == "abc"
    assert paths(fake) == ["/infill", "/completion", "/infill"]
    assert tab.mode == "infill" and tab.heard == ["completion", "infill"]


async def test_a_server_loading_its_model_is_asked_for_infill_once_it_is_ready(
    fake: FakeBackend,
) -> None:
    fake.llamacpp_fim = False
    llama = LlamaCppBackend(BackendSettings(base_url=fake.url, model="m"))

    async def suggest() -> str:
        return "".join([text async for text in llama.generate(PROMPT, Sampling(max_tokens=8))])

    assert await suggest() == "abc" and llama.mode == "completion"
    fake.llamacpp_fim, fake.fail_status = True, 503  # restarted, loading a FIM model
    for _ in range(2):  # the second one checked /infill: it was loading still
        with pytest.raises(BackendBusy):
            await suggest()
    fake.fail_status = None
    assert await suggest() == "abc" and llama.mode == "infill"
    assert paths(fake) == ["/infill", "/completion", "/completion", "/infill", "/infill"]


async def test_a_thousand_urls_start_a_bounded_number_of_probes_all_cancelled_at_stop(
    service: CompletionService,
) -> None:
    connections: list[asyncio.StreamReader] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(reader)
        await reader.read()  # never answers; returns once the client closed
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    before = asyncio.all_tasks()
    try:
        for number in range(1000):
            tab = Tab(service, f"http://127.0.0.1:{port}/server{number}")
            assert tab.mode is None  # unknown: probed in the background, if a probe is free
        probes = asyncio.all_tasks() - before
        assert len(probes) == MAX_PROBES
        await until(lambda: len(connections) == MAX_PROBES)
        await service.stop()
        assert all(probe.cancelled() for probe in probes)
        await until(lambda: all(reader.at_eof() for reader in connections))
    finally:
        server.close()
        await server.wait_closed()


async def test_the_modes_of_a_thousand_urls_are_bounded() -> None:
    modes = LlamaModes()
    for number in range(1000):
        modes.learned(f"http://server{number}", "infill")
        assert modes.get("http://server0") == "infill"  # the most recently used stays
    assert len(modes) == MODES_REMEMBERED
    assert modes.get("http://server1") is None and modes.get("http://server999") == "infill"
