"""The prompt layouts (`prompt_layout`): the notebook as one file with `# %%` cell markers, or
the cells as they are; what each backend receives in each."""

import logging
from dataclasses import replace

import pytest
from traitlets.config import Config

from jupyter_ai_inline.engine import (
    BackendSettings,
    CellText,
    CompletionRequest,
    ContextBudget,
    FimPrompt,
    LlamaCppBackend,
    OllamaBackend,
    OpenAIBackend,
    Sampling,
)
from jupyter_ai_inline.engine.backends import openai as openai_module
from jupyter_ai_inline.engine.prompt import build_prompt
from jupyter_ai_inline.server.app import JupyterAIInline
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio

REQUEST = CompletionRequest(prefix="df.gr", suffix="\nprint(df)", path="work/sales.ipynb")
ABOVE = (  # nearest first
    CellText("code", "df = load()"),
    CellText("markdown", "# Sales\nBy region"),
    CellText("raw", "notes"),
)
BELOW = (CellText("code", "df.plot()"), CellText("markdown", "Done"))

FILE_PREFIX = (
    "# %% [raw]\n# notes\n\n"
    "# %% [markdown]\n# # Sales\n# By region\n\n"
    "# %%\ndf = load()\n\n"
    "# %%\ndf.gr"
)
FILE_SUFFIX = "\nprint(df)\n\n# %%\ndf.plot()\n\n# %% [markdown]\n# Done"
QWEN = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
"""The managed model's name for the Qwen coder (its file name): the `qwen` FIM family."""


def prompt(layout: str = "cells", request: CompletionRequest = REQUEST) -> FimPrompt:
    return replace(build_prompt(request, ContextBudget(), ABOVE, BELOW), layout=layout)


async def collect(backend, prompt_: FimPrompt) -> str:
    return "".join([text async for text in backend.stream(prompt_, Sampling(max_tokens=8))])


def llama(fake: FakeBackend, layout: str, served: str = QWEN) -> LlamaCppBackend:
    """A llama.cpp backend on `fake` serving the model file `served` (its FIM family)."""
    fake.model_path = f"/models/{served}"
    return LlamaCppBackend(BackendSettings(base_url=fake.url, model="m", prompt_layout=layout))


async def test_the_file_layout_writes_the_notebook_as_one_file_with_cell_markers() -> None:
    file = prompt("file")
    assert file.full_prefix == FILE_PREFIX
    assert file.full_suffix == FILE_SUFFIX
    cells = prompt("cells")  # the same cells, without markers
    assert cells.full_prefix == "# notes\n\n# # Sales\n# By region\n\ndf = load()\n\ndf.gr"
    assert cells.full_suffix == "\nprint(df)\n\ndf.plot()\n\n# Done"


async def test_the_file_starts_the_same_while_typing_and_has_variables_in_the_cell() -> None:
    typed = REQUEST.model_copy(update={"prefix": "df.groupby("})
    assert prompt("file", typed).full_prefix.startswith(FILE_PREFIX.removesuffix("df.gr"))
    variables = replace(prompt("file"), variables="# df: DataFrame")
    assert variables.full_prefix.endswith("\n\n# %%\n# df: DataFrame\n\ndf.gr")


async def test_markers_follow_the_language_and_a_cell_alone_has_none() -> None:
    js = CompletionRequest(prefix="x.", language="javascript")
    built = build_prompt(js, ContextBudget(), (CellText("markdown", "Intro"),))
    file = replace(built, layout="file")
    assert file.full_prefix == "// %% [markdown]\n// Intro\n\n// %%\nx."
    alone = build_prompt(REQUEST, ContextBudget())
    as_file = replace(alone, layout="file")
    assert (as_file.full_prefix, as_file.full_suffix) == (alone.full_prefix, alone.full_suffix)


async def test_llamacpp_sends_a_file_to_a_fim_model_as_its_familys_fim_prompt(
    fake: FakeBackend,
) -> None:
    backend = llama(fake, "file")
    await collect(backend, prompt())  # the mode is not known yet: /infill, the file in it
    await collect(backend, prompt())  # a model with FIM tokens: Qwen's FIM prompt, all of it
    first, second = fake.generations[-2:]
    assert first.path == "/infill" and "input_extra" not in first.body
    assert (first.body["input_prefix"], first.body["input_suffix"]) == (FILE_PREFIX, FILE_SUFFIX)
    assert second.path == "/completion"
    expected = f"<|fim_prefix|>{FILE_PREFIX}<|fim_suffix|>{FILE_SUFFIX}<|fim_middle|>"
    assert second.body["prompt"] == expected
    assert second.body["stop"][:2] == ["<|endoftext|>", "<|file_sep|>"]
    assert second.body["cache_prompt"] is True


async def test_llamacpp_sends_a_file_to_infill_when_the_served_models_family_is_unknown(
    fake: FakeBackend,
) -> None:
    backend = llama(fake, "file", served="served.gguf")
    await collect(backend, prompt())
    await collect(backend, prompt())
    assert [r.path for r in fake.requests if r.path != "/props"] == ["/infill"] * 2
    body = fake.requests[-1].body
    assert (body["input_prefix"], body["input_suffix"]) == (FILE_PREFIX, FILE_SUFFIX)
    assert "input_extra" not in body


async def test_llamacpp_without_fim_tokens_continues_the_file(fake: FakeBackend) -> None:
    fake.llamacpp_fim = False
    await collect(llama(fake, "file"), prompt())
    assert fake.requests[-1].path == "/completion"
    assert fake.requests[-1].body["prompt"] == FILE_PREFIX


async def test_llamacpp_cells_layout_sends_the_cells_above_as_files(fake: FakeBackend) -> None:
    backend = llama(fake, "cells")
    await collect(backend, prompt())
    await collect(backend, prompt())
    assert [r.path for r in fake.requests] == ["/infill", "/infill"]
    body = fake.requests[-1].body
    assert body["input_prefix"] == "df.gr" and body["input_suffix"] == prompt().full_suffix
    assert [extra["text"] for extra in body["input_extra"]] == list(prompt().above)


async def test_auto_writes_a_file_for_a_model_with_fim_tokens_of_a_known_family(
    fake: FakeBackend,
) -> None:
    backend = llama(fake, "auto")
    await collect(backend, prompt())
    await collect(backend, prompt())
    expected = f"<|fim_prefix|>{FILE_PREFIX}<|fim_suffix|>{FILE_SUFFIX}<|fim_middle|>"
    assert fake.requests[-1].path == "/completion"
    assert fake.requests[-1].body["prompt"] == expected


async def test_auto_keeps_the_cells_for_fim_tokens_of_no_known_family(fake: FakeBackend) -> None:
    backend = llama(fake, "auto", served="served.gguf")
    await collect(backend, prompt())
    await collect(backend, prompt())  # /infill would cut a file
    body = fake.requests[-1].body
    assert body["input_prefix"] == "df.gr" and len(body["input_extra"]) == 3


async def test_auto_keeps_the_cells_for_a_model_without_fim_tokens(fake: FakeBackend) -> None:
    fake.llamacpp_fim = False
    await collect(llama(fake, "auto"), prompt())
    assert fake.requests[-1].path == "/completion"
    assert fake.requests[-1].body["prompt"] == prompt("cells").full_prefix


async def test_ollama_gets_the_file_as_prompt_and_suffix(fake: FakeBackend) -> None:
    settings = BackendSettings(base_url=fake.url, model="coder", prompt_layout="file")
    await collect(OllamaBackend(settings), prompt())
    body = fake.requests[-1].body
    assert (body["prompt"], body["suffix"]) == (FILE_PREFIX, FILE_SUFFIX)


async def test_an_openai_server_without_suffix_gets_the_file_in_one_fim_prompt(
    fake: FakeBackend,
) -> None:
    openai_module._raw_fim.clear()
    fake.openai_reject_suffix = True
    url = f"{fake.url}/v1"
    settings = BackendSettings(base_url=url, model="Qwen2.5-Coder", prompt_layout="file")
    await collect(OpenAIBackend(settings), prompt())
    expected = f"<|fim_prefix|>{FILE_PREFIX}<|fim_suffix|>{FILE_SUFFIX}<|fim_middle|>"
    assert fake.requests[-1].body["prompt"] == expected
    openai_module._raw_fim.clear()


@pytest.mark.parametrize("layout", ["file", "cells"])
async def test_the_server_setting_reaches_the_backend(layout: str) -> None:
    app = JupyterAIInline(config=Config({"JupyterAIInline": {"prompt_layout": layout}}))
    app.log = logging.getLogger(__name__)
    app.initialize_settings()
    config = app.service.config({"backend": "llamacpp", "model": "served"})
    assert config.completer().backend.settings.prompt_layout == layout
