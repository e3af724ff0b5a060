"""Build the fallback chain the settings ask for; the data-only writer always ends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vast_ai.engines.data_only import DataOnlyEngine
from vast_ai.engines.ollama_engine import OllamaEngine
from vast_ai.engines.openai_engine import OpenAIEngine

from ..settings import Settings
from .base import Integration
from .chain import FallbackChain
from .inprocess import InProcessWriter
from .remote import RemoteGpuTier
from .tiers import GpuTier, GpuTiers


def build_chain(
    settings: Settings, *, start_task: Callable[..., Any], sleep: Callable[[float], Any]
) -> tuple[FallbackChain, GpuTier | None]:
    """The chain, and the remote GPU tier client(s) if in the chain (for health/models)."""
    integrations: list[Integration] = []
    remote: GpuTier | None = None
    if settings.remote_llm_integration and settings.ert_llm_backend_url:
        links = settings.gpu_tiers
        # Several tiers: the next tier is the retry, at once.
        retries = {} if len(links) == 1 else {"retries": 0}
        tiers = [
            RemoteGpuTier(
                link.url,
                link.api_key.get_secret_value(),
                settings.ert_llm_timeout,
                fingerprint=link.fingerprint,
                start_task=start_task,
                sleep=sleep,
                **retries,
            )
            for link in links
        ]
        remote = tiers[0] if len(tiers) == 1 else GpuTiers(tiers)
        integrations.append(remote)
    if settings.ollama_integration:
        integrations.append(
            InProcessWriter(
                name="ollama",
                label=f"Ollama at {settings.ollama_host}",
                engine_factory=lambda: OllamaEngine(settings.ollama_host, settings.ert_llm_timeout),
                default_model=settings.ert_models[0],
                start_task=start_task,
                sleep=sleep,
            )
        )
    if settings.openai_integration:
        integrations.append(
            InProcessWriter(
                name="openai",
                label=f"the OpenAI-compatible server at {settings.openai_base_url}",
                engine_factory=lambda: OpenAIEngine(
                    settings.openai_base_url,
                    settings.openai_api_key.get_secret_value(),
                    settings.openai_model,
                    timeout=settings.ert_llm_timeout,
                ),
                model=settings.openai_model,
                start_task=start_task,
                sleep=sleep,
            )
        )
    integrations.append(
        InProcessWriter(
            name="data_only",
            label="the data-only writer (no LLM wrote this text)",
            engine_factory=DataOnlyEngine,
            model="data-only",
            check_engine=False,
            start_task=start_task,
            sleep=sleep,
        )
    )
    return FallbackChain(integrations), remote
