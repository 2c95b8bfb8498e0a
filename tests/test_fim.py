"""The model families' own FIM prompts (`engine.fim`) and the backends that send them raw
to servers taking no `suffix`: rendering, the choice from the model id or the setting,
what a vLLM-like OpenAI server and an Ollama model without `.Suffix` receive."""

import json

import httpx
import pytest
from pydantic import ValidationError

from jupyter_ai_inline.engine import (
    BackendSettings,
    FimPrompt,
    OllamaBackend,
    OpenAIBackend,
    Sampling,
    fim,
)
from jupyter_ai_inline.engine.backends import ollama as ollama_module
from jupyter_ai_inline.engine.backends import openai as openai_module
from jupyter_ai_inline.engine.config import ModelConfig
from tests.support.fake_backend import FakeBackend
from tests.support.mock_transport import EVENT_STREAM, mock

pytestmark = pytest.mark.asyncio

PROMPT = FimPrompt(prefix="def f(", suffix=")\n", filename="n.ipynb")
WITH_CELLS = FimPrompt(
    prefix="def f(", suffix=")\n", above=("import os",), below=("f(1)",), filename="work/n.ipynb"
)

FB, FH, FE, EOS = "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>"

RENDERED = {
    "qwen": "<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>",
    "deepseek": f"{FB}def f({FH})\n{FE}",
    "starcoder": "<fim_prefix>def f(<fim_suffix>)\n<fim_middle>",
    "codellama": "<PRE> def f( <SUF>)\n <MID>",
    "codegemma": "<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>",
    "codestral": "[SUFFIX])\n[PREFIX]def f(",
}

MODELS = {
    "qwen": "Qwen/Qwen2.5-Coder-1.5B",
    "deepseek": "deepseek-ai/deepseek-coder-1.3b-base",
    "starcoder": "bigcode/starcoder2-3b",
    "codellama": "codellama/CodeLlama-7b-hf",
    "codegemma": "google/codegemma-2b",
    "codestral": "mistralai/Codestral-22B-v0.1",
}

DONE = b'data: {"choices": [{"text": "x", "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n'


@pytest.fixture(autouse=True)
def forget_servers() -> None:
    openai_module._chat_only.clear()
    openai_module._raw_fim.clear()
    ollama_module._takes_suffix.clear()


def vllm(request: httpx.Request) -> httpx.Response:
    """Like vLLM: 400 to `suffix`, a stream otherwise (chat answers too, to be seen)."""
    body = json.loads(request.content)
    if "suffix" in body:
        message = "suffix is not currently supported"
        return httpx.Response(400, json={"error": {"message": message, "code": 400}})
    if request.url.path.endswith("/chat/completions"):
        chunk = b'data: {"choices": [{"delta": {"content": "c"}, "finish_reason": "stop"}]}\n\n'
        return httpx.Response(200, headers=EVENT_STREAM, content=chunk + b"data: [DONE]\n\n")
    return httpx.Response(200, headers=EVENT_STREAM, content=DONE)


async def text_of(backend, prompt: FimPrompt = PROMPT, stop: tuple[str, ...] = ()) -> str:
    pieces = backend.generate(prompt, Sampling(max_tokens=8, stop=stop))
    return "".join([piece async for piece in pieces])


@pytest.mark.parametrize("family", sorted(RENDERED))
async def test_each_family_renders_its_own_markers(family: str) -> None:
    assert fim.TEMPLATES[family].render(PROMPT) == RENDERED[family]
    assert fim.family_of(MODELS[family]) == family


async def test_model_ids_choose_their_family() -> None:
    assert fim.family_of("qwen2.5-coder:1.5b") == "qwen"
    assert fim.family_of("deepseek-coder-v2:16b") == "deepseek"
    assert fim.family_of("starcoder2:3b") == "starcoder"
    assert fim.family_of("codellama:7b-code") == "codellama"
    assert fim.family_of("codegemma:2b") == "codegemma"
    assert fim.family_of("codestral:22b") == "codestral"
    assert fim.family_of("codeqwen:7b") == "starcoder"
    for unknown in ("qwen2.5:7b", "llama3.2", "gpt-4o-mini", "m"):
        assert fim.family_of(unknown) is None


async def test_qwen_puts_other_cells_in_repository_files() -> None:
    text = fim.TEMPLATES["qwen"].render(WITH_CELLS)
    assert text == (
        "<|repo_name|>work\n"
        "<|file_sep|>n.ipynb (cells above)\nimport os\n"
        "<|file_sep|>n.ipynb (cells below)\nf(1)\n"
        "<|file_sep|>n.ipynb\n<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>"
    )


async def test_other_families_put_the_cells_around_in_document_order() -> None:
    text = fim.TEMPLATES["deepseek"].render(WITH_CELLS)
    assert text == f"{FB}import os\n\ndef f({FH})\n\n\nf(1){FE}"
    assert fim.TEMPLATES["codestral"].render(WITH_CELLS) == (
        "[SUFFIX])\n\n\nf(1)[PREFIX]import os\n\ndef f("
    )


async def test_the_setting_overrides_or_turns_off_the_choice() -> None:
    assert fim.template_for("auto", "qwen2.5-coder:1.5b") is fim.TEMPLATES["qwen"]
    assert fim.template_for("none", "qwen2.5-coder:1.5b") is None
    assert fim.template_for("DeepSeek", "my-own-model") is fim.TEMPLATES["deepseek"]
    assert fim.template_for("auto", "my-own-model") is None


async def test_an_unknown_family_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="fim_template must be one of"):
        ModelConfig(backend="openai", model="m", fim_template="qwen3")
    config = ModelConfig(backend="openai", model="m", fim_template=" StarCoder ")
    assert config.fim_template == "starcoder"
    backend = config.completer().backend
    assert backend.settings.fim_template == "starcoder"


@pytest.mark.parametrize("family", sorted(RENDERED))
async def test_a_server_rejecting_suffix_gets_the_family_prompt_raw(family: str) -> None:
    client, sent = mock(vllm)
    settings = BackendSettings(base_url="http://v/v1", model=MODELS[family])
    backend = OpenAIBackend(settings, client)
    assert await text_of(backend) == "x"
    assert await text_of(backend) == "x"
    assert [request.url.path for request in sent] == ["/v1/completions"] * 3  # no chat
    first, raw, again = (json.loads(request.content) for request in sent)
    assert first["suffix"] == ")\n" and first["prompt"] == "def f("
    for body in (raw, again):
        assert "suffix" not in body
        assert body["prompt"] == RENDERED[family]
        assert body["stop"] == list(fim.TEMPLATES[family].stop[:4])
        assert body["model"] == MODELS[family] and body["max_tokens"] == 8
    assert (("http://v/v1", MODELS[family])) in openai_module._raw_fim


async def test_family_stops_come_first_within_four() -> None:
    client, sent = mock(vllm)
    settings = BackendSettings(base_url="http://v/v1", model="codestral-latest")
    assert await text_of(OpenAIBackend(settings, client), stop=("\n\n", "[PREFIX]")) == "x"
    assert json.loads(sent[1].content)["stop"] == ["[PREFIX]", "[SUFFIX]", "</s>", "\n\n"]
    assert json.loads(sent[0].content)["stop"] == ["\n\n", "[PREFIX]"]


async def test_a_configured_family_applies_to_any_model_id() -> None:
    client, sent = mock(vllm)
    settings = BackendSettings(base_url="http://v/v1", model="served", fim_template="deepseek")
    assert await text_of(OpenAIBackend(settings, client)) == "x"
    assert json.loads(sent[1].content)["prompt"] == RENDERED["deepseek"]


@pytest.mark.parametrize(
    ("model", "setting"), [("qwen2.5-coder-1.5b", "none"), ("my-chat-model", "auto")]
)
async def test_without_a_template_the_chat_fallback_stays(model: str, setting: str) -> None:
    client, sent = mock(vllm)
    settings = BackendSettings(base_url="http://v/v1", model=model, fim_template=setting)
    backend = OpenAIBackend(settings, client)
    assert await text_of(backend) == "c" and await text_of(backend) == "c"
    paths = [request.url.path for request in sent]
    assert paths == ["/v1/completions", "/v1/chat/completions", "/v1/chat/completions"]


async def test_a_missing_completions_endpoint_still_goes_to_chat() -> None:
    def no_completions(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/chat/completions"):
            return httpx.Response(404, json={"error": {"message": "Not Found"}})
        return vllm(request)

    client, sent = mock(no_completions)
    settings = BackendSettings(base_url="http://v/v1", model="qwen2.5-coder-7b")
    assert await text_of(OpenAIBackend(settings, client)) == "c"
    assert [request.url.path for request in sent] == ["/v1/completions", "/v1/chat/completions"]


async def test_fake_vllm_gets_the_raw_prompt_and_the_choice_is_remembered(
    fake: FakeBackend,
) -> None:
    fake.openai_reject_suffix = True
    settings = BackendSettings(base_url=f"{fake.url}/v1", model="qwen2.5-coder-1.5b")
    backend = OpenAIBackend(settings)
    assert await text_of(backend, WITH_CELLS) == "abc"
    assert await text_of(backend, WITH_CELLS) == "abc"
    paths = [request.path for request in fake.requests]
    assert paths == ["/v1/completions"] * 3
    assert [bool(request.body.get("suffix")) for request in fake.requests] == [True, False, False]
    assert fake.requests[-1].body["prompt"] == fim.TEMPLATES["qwen"].render(WITH_CELLS)
    assert "<|file_sep|>" in fake.requests[-1].body["stop"]


def ollama_answer(template: str | None, show_status: int = 200):
    lines = [{"response": "a", "done": False}, {"response": "b", "done": True}]
    stream = b"".join(json.dumps(line).encode() + b"\n" for line in lines)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/show":
            return httpx.Response(show_status, json={"template": template})
        return httpx.Response(200, content=stream)

    return answer


async def test_ollama_model_without_suffix_in_its_template_gets_raw_fim() -> None:
    client, sent = mock(ollama_answer("{{ .System }} {{ .Prompt }}"))
    settings = BackendSettings(base_url="http://o", model="deepseek-coder:1.3b")
    backend = OllamaBackend(settings, client)
    assert await text_of(backend, stop=("\n\n",)) == "ab"
    assert await text_of(backend) == "ab"
    paths = [request.url.path for request in sent]
    assert paths == ["/api/show", "/api/generate", "/api/generate"]  # /api/show once
    assert json.loads(sent[0].content) == {"model": "deepseek-coder:1.3b"}
    body = json.loads(sent[1].content)
    assert body["raw"] is True and "suffix" not in body
    assert body["prompt"] == RENDERED["deepseek"]
    assert body["options"]["stop"] == [*fim.TEMPLATES["deepseek"].stop, "\n\n"]


@pytest.mark.parametrize(
    ("template", "status", "model", "setting"),
    [
        ("{{ if .Suffix }}<|fim_prefix|>{{ .Prompt }}{{ end }}", 200, "qwen2.5-coder:1.5b", "auto"),
        (None, 404, "qwen2.5-coder:1.5b", "auto"),  # /api/show failed: as today
        ("{{ .Prompt }}", 200, "llama3.2", "auto"),  # no family
        ("{{ .Prompt }}", 200, "qwen2.5-coder:1.5b", "none"),
    ],
)
async def test_ollama_keeps_native_suffix_otherwise(
    template: str | None, status: int, model: str, setting: str
) -> None:
    client, sent = mock(ollama_answer(template, status))
    settings = BackendSettings(base_url="http://o", model=model, fim_template=setting)
    assert await text_of(OllamaBackend(settings, client)) == "ab"
    body = json.loads(sent[-1].content)
    assert sent[-1].url.path == "/api/generate"
    assert body["suffix"] == ")\n" and body["prompt"] == "def f(" and "raw" not in body


async def test_fake_ollama_show_without_suffix(fake: FakeBackend) -> None:
    fake.ollama_template = "{{ .Prompt }}"
    backend = OllamaBackend(BackendSettings(base_url=fake.url, model="codellama:7b-code"))
    assert await text_of(backend) == "abc"
    assert fake.shows == [{"model": "codellama:7b-code"}]
    body = fake.requests[-1].body
    assert body["raw"] is True and body["prompt"] == RENDERED["codellama"]
    assert "<EOT>" in body["options"]["stop"]


@pytest.mark.parametrize(("setting", "used"), [("DeepSeek", "deepseek"), ("qwen3", "auto")])
async def test_the_server_setting_reaches_the_backend(caplog, setting: str, used: str) -> None:
    import logging

    from traitlets.config import Config

    from jupyter_ai_inline.server.app import JupyterAIInline

    app = JupyterAIInline(config=Config({"JupyterAIInline": {"fim_template": setting}}))
    app.log = logging.getLogger(__name__)  # the app's own logger does not propagate
    app.initialize_settings()
    assert app.service.admin.fim_template == used
    config = app.service.config({"backend": "openai", "model": "served"})
    assert config.completer().backend.settings.fim_template == used
    assert ("fim_template must be one of" in caplog.text) is (used == "auto")
