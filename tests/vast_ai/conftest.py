"""Fixtures for the GPU tier: one fake Ollama per session (reset for every test), the app
in-process (httpx + ASGITransport) and, where a real socket matters, on uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fakes.ollama import FakeOllama
from vast_ai.app import create_app
from vast_ai.settings import Settings

API_KEY = "ert-test-key-0123456789abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

FACTS = [
    {
        "key": "revenue",
        "label": "Revenue (TTM)",
        "value": 391.0e9,
        "display": "$391.0B",
        "unit": "currency",
    },
    {
        "key": "pe_ratio",
        "label": "P/E ratio",
        "value": 29.5,
        "display": "29.5x",
        "unit": "multiple",
    },
    {
        "key": "net_margin",
        "label": "Net margin",
        "value": 24.3,
        "display": "24.3%",
        "unit": "percent",
    },
]


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ticker": "AAPL",
        "company_data": {"name": "Apple Inc.", "sector": "Technology"},
        "financial_data": {"revenue": 391.0e9},
        "fact_sheet": FACTS,
    }
    body.update(overrides)
    return body


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_settings(ollama: FakeOllama) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        fields: dict[str, Any] = {
            "ert_api_key": API_KEY,
            "ollama_host": ollama.url,
            "ert_generation_timeout": 10.0,
        }
        fields.update(overrides)
        return Settings(**fields)

    return make


@pytest.fixture
async def make_client(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """`make_client(**settings)`: an httpx client on a fresh app, closed after the test."""
    opened: list[tuple[FastAPI, httpx.AsyncClient]] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        app = create_app(make_settings(**overrides))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ert.test"
        )
        opened.append((app, client))
        return client

    yield make
    for app, client in opened:
        await client.aclose()
        await app.state.service.engine.close()


@pytest.fixture
async def client(make_client: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return make_client()


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()
