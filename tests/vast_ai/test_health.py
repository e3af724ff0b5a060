"""/health is cheap (cached engine status), never pulls; /models and /metrics say what is there."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.fakes.ollama import DEFAULT_TEXT, FakeOllama, rating_json, refused_url
from tests.vast_ai.conftest import AUTH, report_body
from vast_ai.schemas import HealthResponse

pytestmark = pytest.mark.anyio


async def test_health_is_fast_cached_and_never_pulls(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    started = time.perf_counter()
    answers = [await client.get("/health") for _ in range(20)]
    elapsed = time.perf_counter() - started

    health = HealthResponse.model_validate(answers[-1].json())
    assert health.status == "healthy" and health.ollama_status == "online"
    assert health.model == "gpt-oss:20b"
    assert health.models_available == ["gpt-oss:20b", "llama3.1:8b"]
    assert health.queue.limit == 4 and health.engine == "ollama"
    assert elapsed < 3.0  # twenty answers from the cache, not twenty calls to Ollama
    assert ollama.paths.count("GET /api/tags") == 1
    assert not any("pull" in path or "generate" in path or "chat" in path for path in ollama.paths)


async def test_health_when_ollama_is_down_is_unhealthy_and_still_fast(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    client = make_client(ollama_host=refused_url())
    started = time.perf_counter()
    response = await client.get("/health")

    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "unhealthy" and body["ollama_status"] == "offline"
    assert body["models_available"] == []


async def test_health_degraded_when_the_default_model_is_not_pulled(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ollama_model="mistral:7b")
    body = (await client.get("/health")).json()

    assert body["status"] == "degraded" and body["model"] == "mistral:7b"
    assert "POST /api/pull" not in ollama.paths


async def test_models_lists_allowed_models_and_which_are_pulled(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    client = make_client(ert_allowed_models="llama3.1:8b, mistral:7b")
    body = (await client.get("/models", headers=AUTH)).json()

    assert body == {
        "engine": "ollama",
        "models": [
            {"name": "gpt-oss:20b", "pulled": True, "default": True},
            {"name": "llama3.1:8b", "pulled": True, "default": False},
            {"name": "mistral:7b", "pulled": False, "default": False},
        ],
    }


async def test_metrics_count_requests_tokens_and_queue(client: httpx.AsyncClient) -> None:
    await client.post("/generate_report", headers=AUTH, json=report_body(sections=["risks"]))
    await client.get("/models")  # a 401, refused before routing

    response = await client.get("/metrics", headers=AUTH)

    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ert_requests_total{method="POST",route="/generate_report",status="200"} 1.0' in text
    assert 'ert_requests_total{method="GET",route="unmatched",status="401"} 1.0' in text
    assert 'ert_request_seconds_count{method="POST",route="/generate_report"} 1.0' in text
    completion = len(DEFAULT_TEXT.split()) + len(rating_json().split())  # one token per word
    assert f'ert_tokens_total{{kind="completion"}} {completion:.1f}' in text
    assert "ert_tokens_per_second_count 1.0" in text
    assert "ert_queue_active 0.0" in text and "ert_queue_limit 4.0" in text
    assert 'ert_reports_total{outcome="success"} 1.0' in text


async def test_metrics_use_route_templates_not_raw_paths(client: httpx.AsyncClient) -> None:
    await client.get("/no/such/path/12345")
    text = (await client.get("/metrics", headers=AUTH)).text
    assert "12345" not in text and 'route="unmatched"' in text
