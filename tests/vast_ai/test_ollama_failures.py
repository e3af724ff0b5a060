"""Every Ollama failure maps to a clear error: 503 unreachable / not pulled, 504 timeout."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.fakes.ollama import FakeOllama, Reply, refused_url
from tests.vast_ai.conftest import AUTH, report_body
from vast_ai.engines.base import ChatRequest, EngineStreamError, ModelNotPulled
from vast_ai.engines.ollama_engine import OllamaEngine
from vast_ai.schemas import parse_event

pytestmark = pytest.mark.anyio

ENDPOINTS = ["/generate_report", "/generate_report/stream"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_refused_connection_is_503_ollama_unreachable(
    make_client: Callable[..., httpx.AsyncClient], endpoint: str
) -> None:
    client = make_client(ollama_host=refused_url())
    response = await client.post(endpoint, headers=AUTH, json=report_body())

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "ollama_unreachable" and error["retryable"] is True
    assert "not reachable" in error["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_model_not_pulled_is_503_with_the_pull_command(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str
) -> None:
    response = await client.post(endpoint, headers=AUTH, json=report_body(model="mistral:7b"))

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "model_not_pulled"
    assert "ollama pull mistral:7b" in error["message"]
    assert ollama.chat_requests == [] and "POST /api/pull" not in ollama.paths


async def test_model_removed_after_listing_is_503_model_not_pulled(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    assert (await client.get("/health")).json()["status"] == "healthy"  # caches the model list
    del ollama.models["gpt-oss:20b"]  # gone, but /api/chat is asked before the cache expires

    response = await client.post("/generate_report", headers=AUTH, json=report_body())

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_not_pulled"


async def test_slow_model_is_504(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_generation_timeout=0.3)
    ollama.reply = Reply(first_byte_delay=3)

    response = await client.post("/generate_report", headers=AUTH, json=report_body())

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "generation_timeout"


async def test_slow_model_ends_the_stream_with_a_timeout_event(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_generation_timeout=0.3)
    ollama.reply = Reply(first_byte_delay=3)

    response = await client.post("/generate_report/stream", headers=AUTH, json=report_body())

    events = [parse_event(line) for line in response.text.splitlines()]
    assert events[0].type == "started"
    assert events[-1].type == "error" and events[-1].code == "generation_timeout"
    assert events[-1].retryable is True


async def test_whole_report_timeout_is_504_even_while_tokens_flow(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_generation_timeout=0.4)
    ollama.reply = Reply(text="word " * 200, chunk_delay=0.01)  # never silent, but 2 s long

    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"])
    )

    assert response.status_code == 504
    assert "0.4" in response.json()["error"]["message"]


async def chat_once(engine: OllamaEngine, model: str = "gpt-oss:20b") -> str:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}])
    return "".join([chunk.text async for chunk in engine.chat(request)])


async def test_engine_maps_error_line_and_404(ollama: FakeOllama) -> None:
    engine = OllamaEngine(ollama.url, timeout=5)
    ollama.reply = Reply(error_after=2, error="CUDA error: out of memory")
    with pytest.raises(EngineStreamError, match="CUDA error: out of memory"):
        await chat_once(engine)
    ollama.reply = None
    with pytest.raises(ModelNotPulled, match="ollama pull phi3:mini") as raised:
        await chat_once(engine, model="phi3:mini")
    assert raised.value.status == 503
    await engine.close()
