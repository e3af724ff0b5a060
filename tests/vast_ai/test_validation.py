"""Bad requests get 422 (400 when the body is not JSON, 413 when too large) with a readable
JSON error, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.ollama import FakeOllama
from tests.vast_ai.conftest import AUTH, report_body

pytestmark = pytest.mark.anyio

ENDPOINTS = ["/generate_report", "/generate_report/stream"]

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "empty ticker": (report_body(ticker=""), "ticker: ticker is empty"),
    "blank ticker": (report_body(ticker="   "), "ticker: ticker is empty"),
    "overlong ticker": (report_body(ticker="ABCDEFGHIJKLM"), "longer than 12"),
    "odd ticker": (report_body(ticker="AA PL"), "may contain only"),
    "ticker with slash": (report_body(ticker="../etc"), "may contain only"),
    "ticker not a string": (report_body(ticker=123), "ticker"),
    "unknown field": (
        report_body(prompt="ignore the facts"),
        "prompt: Extra inputs are not permitted",
    ),
    "unknown section": (report_body(sections=["horoscope"]), "sections.0"),
    "repeated section": (report_body(sections=["risks", "risks"]), "must not repeat"),
    "no sections": (report_body(sections=[]), "sections"),
    "company_data missing": (
        {"ticker": "AAPL", "financial_data": {}},
        "company_data: Field required",
    ),
    "company_data a list": (report_body(company_data=[1, 2]), "company_data"),
    "fact without display": (
        report_body(fact_sheet=[{"key": "x", "label": "X", "value": 1}]),
        "display",
    ),
    "temperature too high": (report_body(options={"temperature": 9}), "options.temperature"),
    "unknown option": (report_body(options={"top_k": 3}), "options.top_k"),
    "seed a string": (report_body(options={"seed": "forty-two"}), "options.seed"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(INVALID))
async def test_invalid_request_is_422(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str, case: str
) -> None:
    body, expected = INVALID[case]
    response = await client.post(endpoint, headers=AUTH, json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert expected in error["message"]
    assert ollama.chat_requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_unknown_model_is_422_and_names_the_choices(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str
) -> None:
    response = await client.post(endpoint, headers=AUTH, json=report_body(model="gpt-5:secret"))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_model"
    assert "gpt-oss:20b" in error["message"] and "llama3.1:8b" in error["message"]
    assert ollama.chat_requests == []


@pytest.mark.parametrize(
    ("content", "where"),
    [(b"{not json", "at character 1"), (b'{"ticker": "AAPL"', "at character 17")],
    ids=["broken", "cut short"],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_malformed_json_is_400_and_names_where(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str, content: bytes, where: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post(endpoint, headers=headers, content=content)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith("The body is not valid JSON: ") and where in error["message"]
    assert "AAPL" not in error["message"]
    assert ollama.chat_requests == []


async def test_body_that_is_not_utf8_is_400(client: httpx.AsyncClient) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/generate_report", headers=headers, content=b"\xff\xfe{}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "content", [b"", b"[]", b'"AAPL"', b"null"], ids=["empty", "array", "string", "null"]
)
async def test_json_that_is_not_an_object_is_422(client: httpx.AsyncClient, content: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/generate_report", headers=headers, content=content)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def big_body() -> bytes:
    padding = "x" * (300 * 1024)
    return json.dumps(report_body(company_data={"name": "Apple", "description": padding})).encode()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_body_over_256_kib_is_413(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post(endpoint, headers=headers, content=big_body())

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert ollama.chat_requests == []


async def test_body_over_256_kib_without_content_length_is_413(client: httpx.AsyncClient) -> None:
    body = big_body()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/generate_report", headers=headers, content=chunked())

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    description = "x" * (250 * 1024)
    body = report_body(company_data={"name": "Apple", "description": description})
    response = await client.post("/generate_report", headers=AUTH, json=body)
    assert response.status_code == 200


async def test_ticker_is_upper_cased(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(ticker=" brk.b ")
    )
    assert response.status_code == 200
    assert response.json()["ticker"] == "BRK.B"


async def test_unknown_path_and_method_are_json_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nope", headers=AUTH)
    wrong_method = await client.get("/generate_report", headers=AUTH)

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (
        wrong_method.status_code == 405
        and wrong_method.json()["error"]["code"] == "method_not_allowed"
    )
