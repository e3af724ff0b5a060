"""An engine for any OpenAI-compatible server (vLLM, llama.cpp server, LiteLLM), streaming.

It serves one model, the one it was built with. Reasoning text some servers send in
`reasoning_content` is passed on as `thinking`, which never reaches the report. Servers
that report cached prompt tokens (`prompt_tokens_details.cached_tokens`) have them
counted apart from the evaluated ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from importlib.metadata import version
from typing import Any

import openai
from openai import AsyncOpenAI

from vast_ai.engines.base import (
    ChatChunk,
    ChatRequest,
    ChunkUsage,
    EngineError,
    EngineStreamError,
    EngineTimeout,
    EngineUnreachable,
    FinishReason,
)


class OpenAIEngine:
    name = "openai"
    demo = False
    follows_instructions = True

    def __init__(self, base_url: str, api_key: str, model: str, timeout: float = 300.0) -> None:
        self.model = model
        self.versions = {"openai_client": version("openai")}
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0
        )

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        extra: dict[str, Any] = {}
        if request.json_schema is not None:
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.json_schema},
            }
        try:
            stream = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=request.model,
                messages=request.messages,
                temperature=request.temperature,
                seed=request.seed,
                max_tokens=request.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
            finish_reason: FinishReason | None = None
            async for chunk in stream:
                for choice in chunk.choices:
                    thinking = (choice.delta.model_extra or {}).get("reasoning_content") or ""
                    if choice.delta.content or thinking:
                        yield ChatChunk(text=choice.delta.content or "", thinking=thinking)
                    if choice.finish_reason in ("stop", "length"):
                        finish_reason = choice.finish_reason
                if chunk.usage is not None:
                    details = chunk.usage.prompt_tokens_details
                    cached = details.cached_tokens if details is not None else None
                    yield ChatChunk(
                        done=True,
                        usage=ChunkUsage(
                            prompt_tokens=chunk.usage.prompt_tokens - (cached or 0),
                            completion_tokens=chunk.usage.completion_tokens,
                            cached_prompt_tokens=cached,
                        ),
                        finish_reason=finish_reason,
                    )
        except openai.APITimeoutError as exc:
            raise EngineTimeout("The OpenAI-compatible server did not answer in time") from exc
        except openai.APIConnectionError as exc:
            raise EngineUnreachable(
                "The OpenAI-compatible server is not reachable", code="engine_unreachable"
            ) from exc
        except openai.NotFoundError as exc:
            raise EngineError(
                f"The server does not serve model '{request.model}'",
                code="model_not_found",
                status=503,
            ) from exc
        except openai.APIStatusError as exc:
            raise EngineError(
                f"The OpenAI-compatible server answered {exc.status_code}", code="engine_error"
            ) from exc
        except openai.APIError as exc:
            raise EngineStreamError(f"The stream failed: {exc.message}") from exc

    async def list_models(self) -> list[str]:
        """The configured model, once the server answers (servers name their models freely)."""
        try:
            await self._client.models.list()
        except openai.APIError as exc:
            raise EngineUnreachable(
                "The OpenAI-compatible server is not reachable", code="engine_unreachable"
            ) from exc
        return [self.model]

    async def model_digest(self, model: str) -> str | None:
        return None

    async def processor(self, model: str) -> None:
        return None

    async def close(self) -> None:
        await self._client.close()
