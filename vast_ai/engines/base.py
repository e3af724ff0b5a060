"""The one small interface every text engine implements, and its error types.

An engine turns a chat request into a stream of chunks. It knows nothing of HTTP; the
report writer drives it. Beside the chat messages, a request may carry the structured
`ReportTask` the messages were written from, so an engine that writes without a chat
model (the data-only writer, a base model continuing a document) never parses a prompt.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from vast_ai.schemas import Fact

Processor = Literal["gpu", "cpu"]
FinishReason = Literal["stop", "length"]
# The `section` of the task that asks for the rating.
RATING_TASK = "rating"


@dataclass(frozen=True)
class ReportTask:
    """What one model call is asked to write: a section (or "rating"), about which company,
    from which figures. `context` holds the other sections' text the call reads (the
    executive summary, the rating); `corrections` the failing figures of a first draft,
    each said for people ("24.3% is the net margin, not the operating margin")."""

    section: str
    ticker: str
    company: str
    facts: tuple[Fact, ...] = ()
    profile: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    corrections: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    temperature: float = 0.2
    seed: int = 42
    # Tokens of answer text; an engine whose model thinks first gives the thinking its
    # own budget on top (see ollama_engine.THINKING_BUDGET).
    max_tokens: int = 700
    num_ctx: int | None = None
    # gpt-oss reasoning effort; engines that cannot think ignore it.
    think: Literal["low", "medium", "high"] | None = None
    # A JSON schema the answer must follow (Ollama `format`), or None for free text.
    json_schema: dict[str, Any] | None = None
    # The task the messages ask for, or None for a free chat.
    task: ReportTask | None = None


@dataclass(frozen=True)
class ChunkUsage:
    # Prompt tokens the model evaluated, and those it took from its cache instead (None
    # when the engine does not say: Ollama counts only the evaluated ones).
    prompt_tokens: int = 0
    completion_tokens: int = 0
    eval_seconds: float = 0.0
    cached_prompt_tokens: int | None = None


@dataclass(frozen=True)
class ChatChunk:
    """A piece of the answer. `thinking` is the reasoning trace, never report text.

    The last chunk has done=True, the usage, and why the answer ended where the engine
    says: "length" when it ran out of tokens. An engine may send the prompt's counts
    earlier, in a chunk with only `usage`, so a reader that stops early still has them."""

    text: str = ""
    thinking: str = ""
    done: bool = False
    usage: ChunkUsage | None = None
    finish_reason: FinishReason | None = None


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
    # A small demo model whose text is unreliable: reports say so and carry no rating.
    demo: bool
    # The model reads instructions. A base model continuing a document does not, nor does
    # the data-only writer: naming a draft's failing figures cannot change their text.
    follows_instructions: bool

    def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream the answer; the last chunk has done=True and usage."""
        ...

    async def list_models(self) -> list[str]:
        """Names of the models this engine can run now (pulled, loaded)."""
        ...

    async def model_digest(self, model: str) -> str | None:
        """A digest identifying the model weights, where the engine knows one."""
        ...

    async def processor(self, model: str) -> Processor | None:
        """Where the model runs, where the engine knows it."""
        ...

    async def close(self) -> None: ...
