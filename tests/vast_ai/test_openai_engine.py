"""The OpenAI-compatible engine against a local server speaking the chat completions SSE API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.ollama import refused_url
from vast_ai.engines.base import ChatChunk, ChatRequest, EngineError, EngineUnreachable
from vast_ai.engines.openai_engine import OpenAIEngine

pytestmark = pytest.mark.anyio


def sse(chunks: list[dict[str, Any]]) -> Iterator[bytes]:
    for chunk in chunks:
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def delta(content: str | None = None, reasoning: str | None = None) -> dict[str, Any]:
    choice_delta: dict[str, Any] = {"role": "assistant"}
    if content is not None:
        choice_delta["content"] = content
    if reasoning is not None:
        choice_delta["reasoning_content"] = reasoning
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [{"index": 0, "delta": choice_delta, "finish_reason": None}],
    }


USAGE = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "qwen",
    "choices": [],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


async def collect(engine: OpenAIEngine, **fields: Any) -> list[ChatChunk]:
    request = ChatRequest(model="qwen", messages=[{"role": "user", "content": "hi"}], **fields)
    return [chunk async for chunk in engine.chat(request)]


async def test_streams_text_keeps_reasoning_apart_and_reports_usage(httpserver: HTTPServer) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        seen.append(request.get_json())
        chunks = [delta(reasoning="thinking..."), delta("Hello"), delta(" world"), USAGE]
        return Response(sse(chunks), mimetype="text/event-stream")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    engine = OpenAIEngine(httpserver.url_for("/v1"), "sk-test", "qwen")

    chunks = await collect(engine, json_schema={"type": "object"}, seed=7, max_tokens=50)

    assert "".join(c.text for c in chunks) == "Hello world"
    assert "".join(c.thinking for c in chunks) == "thinking..."
    assert chunks[-1].done and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (12, 3)
    body = seen[0]
    assert body["seed"] == 7 and body["max_tokens"] == 50 and body["stream"] is True
    assert body["response_format"]["json_schema"]["schema"] == {"type": "object"}
    await engine.close()


async def test_unreachable_server_and_http_errors_map(httpserver: HTTPServer) -> None:
    down = OpenAIEngine(refused_url() + "/v1", "k", "qwen", timeout=2)
    with pytest.raises(EngineUnreachable) as unreachable:
        await collect(down)
    assert unreachable.value.status == 503 and unreachable.value.code == "engine_unreachable"
    with pytest.raises(EngineUnreachable):
        await down.list_models()

    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "no"}}, status=404
    )
    missing = OpenAIEngine(httpserver.url_for("/v1"), "k", "qwen")
    with pytest.raises(EngineError) as not_found:
        await collect(missing)
    assert not_found.value.code == "model_not_found" and not_found.value.status == 503
    await down.close()
    await missing.close()


async def test_cached_prompt_tokens_and_the_finish_reason(httpserver: HTTPServer) -> None:
    cut = delta(" and")
    cut["choices"][0]["finish_reason"] = "length"
    usage = {
        **USAGE,
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 3,
            "total_tokens": 1203,
            "prompt_tokens_details": {"cached_tokens": 1024},
        },
    }
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        lambda request: Response(sse([delta("Sales"), cut, usage]), mimetype="text/event-stream")
    )
    engine = OpenAIEngine(httpserver.url_for("/v1"), "sk-test", "qwen")

    last = (await collect(engine))[-1]

    assert last.done and last.finish_reason == "length" and last.usage is not None
    # The server's prompt_tokens count the cached ones too: only 176 were evaluated.
    assert (last.usage.prompt_tokens, last.usage.cached_prompt_tokens) == (176, 1024)
    await engine.close()
