"""The providers as Jupyter AI discovers them."""

from importlib.metadata import entry_points

from jupyter_ai_inline.providers import (
    LlamaCppInlineProvider,
    OllamaInlineProvider,
    OpenAIInlineProvider,
)


def test_providers_are_registered_with_their_ids_and_fields() -> None:
    group = entry_points(group="jupyter_ai.model_providers")
    registered = {e.name: e.load() for e in group if e.name.startswith("inline-")}
    expected = {
        "inline-ollama": (OllamaInlineProvider, "Ollama (inline FIM)", "http://localhost:11434"),
        "inline-llamacpp": (LlamaCppInlineProvider, "llama.cpp server", "http://localhost:8080"),
        "inline-openai": (
            OpenAIInlineProvider,
            "OpenAI-compatible (inline)",
            "https://api.openai.com/v1",
        ),
    }
    for provider_id, (cls, name, url) in expected.items():
        assert registered[provider_id] is cls
        assert (cls.id, cls.name) == (provider_id, name)
        assert cls.help.startswith(("A model served by", "Any server")) and "\n" not in cls.help
        assert cls(model_id="m").config.base_url == url
        assert cls.models == ["*"] and cls.registry and cls.chat_models() == []
        assert [f.key for f in cls.fields] == ["base_url", "suggestions", "max_tokens"]
    assert OpenAIInlineProvider.auth_strategy.name == "OPENAI_API_KEY"


def test_synchronous_invoke_works_without_a_running_loop() -> None:
    """`%%ai` magics call the LLM synchronously."""
    import asyncio
    import threading

    from tests.support.fake_backend import FakeBackend

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeBackend(tokens=["Hello", " world"])
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=5)
    try:
        provider = OllamaInlineProvider(model_id="coder", base_url=fake.url)
        assert provider.invoke("Say hi") == "Hello world"
        assert fake.requests[0].body["prompt"] == "Say hi"
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
