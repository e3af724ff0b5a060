"""The Ollama engine: the official `ollama` AsyncClient, streaming /api/chat.

Every failure leaves as one of base.py's errors: refused connection → EngineUnreachable
(503 ollama_unreachable), 404 → ModelNotPulled (503, with the `ollama pull` to run),
silence longer than `timeout` → EngineTimeout (504), an `{"error"}` line or a line that
is not a chat chunk in the stream → EngineStreamError (the section fails with it).

gpt-oss thinks before it answers, and Ollama counts the thinking against `num_predict`:
the thinking gets its own budget on top of the answer's `max_tokens`, and the answer is
cut here (finish_reason "length") once it has had its own.

A GPU streams each token in its own write. Reading each as it comes costs a wake-up and a
socket read per token; with a `read_window`, after a read that had to wait, the stream is
left alone that long, and the next read takes the tokens that arrived meanwhile at once.
The GPU tier reads so (READ_WINDOW); by default every token is read as it comes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from importlib.metadata import version
from typing import Any, Literal, cast

import httpx
from ollama import AsyncClient, ChatResponse, ResponseError
from pydantic import ValidationError

from vast_ai.engines.base import (
    ChatChunk,
    ChatRequest,
    ChunkUsage,
    EngineError,
    EngineStreamError,
    EngineTimeout,
    EngineUnreachable,
    FinishReason,
    ModelNotPulled,
    Processor,
)

NANOSECONDS = 1e9
# Tokens of thinking allowed before the answer, per gpt-oss reasoning effort.
THINKING_BUDGET: dict[Literal["low", "medium", "high"], int] = {
    "low": 1024,
    "medium": 2048,
    "high": 4096,
}
# Seconds between two reads of a stream that had to wait for its data in the GPU tier
# (see above), and the wait that tells a read from the wire from a line already buffered.
# Each wake-up of a stream costs far more CPU than the tokens it reads: with four streams
# at 150 tokens/s, a window of 0.1 s cost ~105 us of CPU per token in the GPU tier, 0.25 s
# ~70 us (bench/bench_gpu_overhead.py). A section's text still arrives four times a second.
READ_WINDOW = 0.25
_FROM_THE_WIRE = 0.001


def same_model(a: str, b: str) -> bool:
    """Ollama names without a tag mean `:latest`."""
    return _with_tag(a) == _with_tag(b)


def _with_tag(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def thinks_with_effort(model: str) -> bool:
    """gpt-oss takes a think level (low/medium/high); other models refuse `think` levels."""
    return model.startswith("gpt-oss")


class OllamaEngine:
    name = "ollama"
    demo = False
    follows_instructions = True

    def __init__(
        self,
        host: str,
        timeout: float,
        keep_alive: str | float | None = "24h",
        read_window: float = 0.0,
    ) -> None:
        self.host = host
        self.versions = {"ollama_client": version("ollama")}
        self._keep_alive = keep_alive
        self._read_window = read_window
        # Connect and read timeouts: a stream that goes silent for `timeout` seconds fails.
        self._client = AsyncClient(
            host=host, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
        )

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        think = request.think if request.think and thinks_with_effort(request.model) else None
        options: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "num_predict": request.max_tokens + (THINKING_BUDGET[think] if think else 0),
        }
        if request.num_ctx:
            options["num_ctx"] = request.num_ctx
        try:
            stream = await self._client.chat(
                model=request.model,
                messages=request.messages,
                stream=True,
                think=think,
                format=request.json_schema,
                options=options,
                keep_alive=self._keep_alive,
            )
            # The client's stream is an async generator: closed here, however this ends (a
            # consumer that stops reading while this sleeps too), it closes the connection.
            async with aclosing(cast("AsyncGenerator[ChatResponse, None]", stream)) as parts:
                # Chunks of answer and of thinking: Ollama streams one token per chunk.
                answered = thought = 0
                clock = asyncio.get_running_loop().time
                while True:
                    asked = clock()
                    try:
                        part = await anext(parts)
                    except StopAsyncIteration:
                        return
                    waited = clock() - asked > _FROM_THE_WIRE
                    if part.message.content:
                        answered += 1
                        if answered > request.max_tokens:
                            usage = ChunkUsage(completion_tokens=thought + request.max_tokens)
                            yield ChatChunk(done=True, usage=usage, finish_reason="length")
                            return
                    elif part.message.thinking:
                        thought += 1
                    yield _chunk(part)
                    if waited and not part.done and self._read_window:
                        await asyncio.sleep(self._read_window)
        except ResponseError as exc:
            raise self._map_response_error(exc, request.model) from None
        except (ConnectionError, httpx.ConnectError) as exc:
            raise EngineUnreachable(f"Ollama is not reachable at {self.host}") from exc
        except httpx.TimeoutException as exc:
            raise EngineTimeout(f"Ollama sent nothing for too long ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise EngineUnreachable(
                f"The connection to Ollama failed: {type(exc).__name__}"
            ) from exc
        except (json.JSONDecodeError, ValidationError) as exc:
            raise EngineStreamError("Ollama sent a line that is not a chat chunk") from exc

    @staticmethod
    def _map_response_error(exc: ResponseError, model: str) -> EngineError:
        if exc.status_code == 404:
            return ModelNotPulled(model)
        if exc.status_code == -1:  # an {"error": ...} line inside a 200 stream
            return EngineStreamError(f"Ollama stopped with an error: {exc.error}")
        return EngineError(
            f"Ollama answered {exc.status_code}: {exc.error}", code="ollama_error", status=502
        )

    async def list_models(self) -> list[str]:
        tags = await self._call(self._client.list())
        return [m.model for m in tags.models if m.model]

    async def model_digest(self, model: str) -> str | None:
        tags = await self._call(self._client.list())
        for entry in tags.models:
            if entry.model and same_model(entry.model, model):
                digest: str | None = entry.digest
                return digest
        return None

    async def processor(self, model: str) -> Processor | None:
        """From Ollama's loaded models: "gpu" when any of the model sits in GPU memory."""
        try:
            loaded = await self._call(self._client.ps())
        except EngineError:
            return None
        for entry in loaded.models:
            if entry.model and same_model(entry.model, model):
                return "gpu" if (entry.size_vram or 0) > 0 else "cpu"
        return None

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except ResponseError as exc:
            raise EngineError(
                f"Ollama answered {exc.status_code}: {exc.error}", code="ollama_error"
            ) from None
        except (ConnectionError, httpx.TransportError) as exc:
            raise EngineUnreachable(f"Ollama is not reachable at {self.host}") from exc

    async def close(self) -> None:
        await self._client.close()  # type: ignore[no-untyped-call]


def _usage(part: ChatResponse) -> ChunkUsage:
    return ChunkUsage(
        prompt_tokens=part.prompt_eval_count or 0,
        completion_tokens=part.eval_count or 0,
        eval_seconds=(part.eval_duration or 0) / NANOSECONDS,
    )


def _chunk(part: ChatResponse) -> ChatChunk:
    if not part.done:
        return ChatChunk(text=part.message.content or "", thinking=part.message.thinking or "")
    reason: FinishReason | None = "length" if part.done_reason == "length" else "stop"
    return ChatChunk(
        text=part.message.content or "",
        thinking=part.message.thinking or "",
        done=True,
        usage=_usage(part),
        finish_reason=reason,
    )
