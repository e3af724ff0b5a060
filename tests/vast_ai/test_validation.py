"""Bad requests get 422 (400 when the body is not JSON, 413 when too large) with a readable
JSON error, never a 500."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama
from tests.vast_ai.conftest import API_KEY, AUTH, report_body
from vast_ai.app import create_app
from vast_ai.settings import Settings

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


async def _send_part_of_a_body(
    url: str, key: str, body: bytes, *, trickle: float | None
) -> tuple[bytes, float]:
    """Over a raw socket: headers promising `body` and a bit more, then `body` (a byte every
    `trickle` seconds, or at once), then nothing. What the server answers, and after how long
    it closed the connection."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = (
        f"POST /generate_report HTTP/1.1\r\nHost: ert.test\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 100}\r\n\r\n"
    )
    pieces = [body[i : i + 1] for i in range(len(body))] if trickle else [body]

    async def write() -> None:
        writer.write(head.encode())
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(trickle or 0)

    answer = b""

    async def read_until_closed() -> None:
        nonlocal answer
        while chunk := await reader.read(65536):
            answer += chunk

    started = time.monotonic()
    writing = asyncio.create_task(write())
    try:
        # A server that closes with our unread bytes still in its buffer resets the
        # connection after its answer: what arrived before the reset is the answer.
        with suppress(ConnectionResetError):
            await asyncio.wait_for(read_until_closed(), timeout=10)
    finally:
        writing.cancel()
        with suppress(asyncio.CancelledError, ConnectionError):
            await writing
        writer.close()
    return answer, time.monotonic() - started


@pytest.mark.parametrize("trickle", [None, 0.2], ids=["half sent", "a byte at a time"])
async def test_a_slow_body_gets_408_and_its_connection_closed(
    make_settings: Callable[..., Settings], ollama: FakeOllama, trickle: float | None
) -> None:
    app = create_app(make_settings(ert_body_timeout=1.0))
    with serve(app) as url:
        answer, seconds = await _send_part_of_a_body(
            url, API_KEY, json.dumps(report_body()).encode()[:40], trickle=trickle
        )
        head, _, body = answer.partition(b"\r\n\r\n")

        assert head.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body)["error"] == {
            "code": "request_timeout",
            "message": "The request body did not arrive within 1 s",
            "retryable": False,
        }
        assert seconds < 8  # answered after the timeout, and the connection closed
        assert ollama.chat_requests == []
        async with httpx.AsyncClient(base_url=url) as client:  # the server still answers
            assert (await client.get("/health")).status_code == 200


async def test_a_slow_body_without_the_key_is_refused_at_once(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(ert_body_timeout=30.0))
    with serve(app) as url:
        answer, seconds = await _send_part_of_a_body(url, "ert-wrong", b"{", trickle=None)

    assert answer.startswith(b"HTTP/1.1 401 ")
    assert seconds < 8  # closed at once: neither the 30 s body timeout nor a kept-alive wait
