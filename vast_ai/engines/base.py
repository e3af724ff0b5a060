"""The one small interface every text engine implements, and its error types.

An engine turns a chat request into a stream of chunks. It knows nothing of
reports, sections or HTTP; the report writer drives it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    temperature: float = 0.2
    seed: int = 42
    max_tokens: int = 700
    num_ctx: int | None = None
    # gpt-oss reasoning effort; engines that cannot think ignore it.
    think: Literal["low", "medium", "high"] | None = None
    # A JSON schema the answer must follow (Ollama `format`), or None for free text.
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChunkUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    eval_seconds: float = 0.0


@dataclass(frozen=True)
class ChatChunk:
    """A piece of the answer. `thinking` is the reasoning trace, never report text."""

    text: str = ""
    thinking: str = ""
    done: bool = False
    usage: ChunkUsage | None = None


@dataclass
class EngineError(Exception):
    """An engine failure with the HTTP status and code the API answers with."""

    message: str
    code: str = "engine_error"
    status: int = 502
    retryable: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class EngineUnreachable(EngineError):
    def __init__(self, message: str, code: str = "ollama_unreachable") -> None:
        super().__init__(message, code=code, status=503, retryable=True)


class ModelNotPulled(EngineError):
    def __init__(self, model: str) -> None:
        super().__init__(
            f"Model '{model}' is not pulled on this server; run: ollama pull {model}",
            code="model_not_pulled",
            status=503,
            retryable=False,
            details={"model": model},
        )


class EngineTimeout(EngineError):
    def __init__(self, message: str = "The model did not answer in time") -> None:
        super().__init__(message, code="generation_timeout", status=504, retryable=True)


class EngineStreamError(EngineError):
    """An `{"error": ...}` line in the middle of a stream: the section fails with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="engine_stream_error", status=502, retryable=False)


@runtime_checkable
class Engine(Protocol):
    name: str

    def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream the answer; the last chunk has done=True and usage."""
        ...

    async def list_models(self) -> list[str]:
        """Names of the models this engine can run now (pulled, loaded)."""
        ...

    async def model_digest(self, model: str) -> str | None:
        """A digest identifying the model weights, where the engine knows one."""
        ...

    async def close(self) -> None: ...
