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
        assert cls(model_id="m").config.base_url == url
        assert cls.models == ["*"] and cls.registry and cls.chat_models() == []
        assert [f.key for f in cls.fields] == ["base_url", "suggestions", "max_tokens"]
    assert OpenAIInlineProvider.auth_strategy.name == "OPENAI_API_KEY"
