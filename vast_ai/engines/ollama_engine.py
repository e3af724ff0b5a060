"""The Ollama engine: the official `ollama` AsyncClient, streaming /api/chat.

Every failure leaves as one of base.py's errors: refused connection → EngineUnreachable
(503 ollama_unreachable), 404 → ModelNotPulled (503, with the `ollama pull` to run),
silence longer than `timeout` → EngineTimeout (504), an `{"error"}` line in the stream
→ EngineStreamError (the section fails with that message).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

import httpx
from ollama import AsyncClient, ResponseError

from vast_ai.engines.base import (
    ChatChunk,
    ChatRequest,
    ChunkUsage,
    EngineError,
    EngineStreamError,
    EngineTimeout,
    EngineUnreachable,
    ModelNotPulled,
)

NANOSECONDS = 1e9


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

    def __init__(self, host: str, timeout: float, keep_alive: str | float | None = "24h") -> None:
        self.host = host
        self.versions = {"ollama_client": version("ollama")}
        self._keep_alive = keep_alive
        # Connect and read timeouts: a stream that goes silent for `timeout` seconds fails.
        self._client = AsyncClient(
            host=host, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
        )

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        options: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "num_predict": request.max_tokens,
        }
        if request.num_ctx:
            options["num_ctx"] = request.num_ctx
        think = request.think if request.think and thinks_with_effort(request.model) else None
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
            async for part in stream:
                message = part.message
                usage = None
                if part.done:
                    usage = ChunkUsage(
                        prompt_tokens=part.prompt_eval_count or 0,
                        completion_tokens=part.eval_count or 0,
                        eval_seconds=(part.eval_duration or 0) / NANOSECONDS,
                    )
                yield ChatChunk(
                    text=message.content or "",
                    thinking=message.thinking or "",
                    done=bool(part.done),
                    usage=usage,
                )
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
