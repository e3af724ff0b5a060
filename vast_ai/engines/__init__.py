"""Text engines behind one interface (base.Engine), and the factory that picks one.

Engines are imported when chosen: the embedded llama.cpp engine needs a compiled
extension that a plain install does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vast_ai.engines.base import Engine
    from vast_ai.settings import Settings


def build_engine(settings: Settings) -> Engine:
    """The engine ERT_ENGINE names, configured from the settings."""
    if settings.ert_engine == "ollama":
        from vast_ai.engines.ollama_engine import READ_WINDOW, OllamaEngine

        return OllamaEngine(
            settings.ollama_host,
            timeout=settings.ert_generation_timeout,
            keep_alive=settings.ollama_keep_alive,
            read_window=READ_WINDOW,
        )
    if settings.ert_engine == "openai":
        from vast_ai.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(
            settings.openai_base_url,
            settings.openai_api_key.get_secret_value(),
            settings.openai_model,
            timeout=settings.ert_generation_timeout,
        )
    if settings.ert_engine == "llamacpp":
        from vast_ai.engines.llamacpp_engine import LlamaCppEngine

        return LlamaCppEngine(
            model_path=settings.ert_gguf_path, n_ctx=settings.ollama_context_length
        )
    from vast_ai.engines.data_only import DataOnlyEngine

    return DataOnlyEngine()


async def served_models(settings: Settings, engine: Engine) -> list[str]:
    """The models requests may ask for, the default first.

    Ollama serves the allowed list; every other engine serves only its own model.
    """
    if settings.ert_engine == "ollama":
        return settings.allowed_ollama_models()
    if settings.ert_engine == "openai":
        return [settings.openai_model]
    return (await engine.list_models())[:1]
