"""Every path but /health needs `Authorization: Bearer <ERT_API_KEY>`, checked before the
body is read: without the key the answer is 401 whatever the request sends."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.fakes.ollama import FakeOllama
from tests.vast_ai.conftest import API_KEY, AUTH, report_body
from vast_ai.auth import keys_match

pytestmark = pytest.mark.anyio

PROTECTED = [
    ("GET", "/models"),
    ("GET", "/metrics"),
    ("POST", "/generate_report"),
    ("POST", "/generate_report/stream"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/no-such-path"),
]

WRONG_HEADERS = {
    "none": {},
    "wrong key": {"Authorization": "Bearer ert-not-the-key"},
    "key as prefix": {"Authorization": f"Bearer {API_KEY}x"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic scheme": {"Authorization": f"Basic {API_KEY}"},
    "no scheme": {"Authorization": API_KEY},
    "other header": {"X-API-Key": API_KEY},
}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("case", list(WRONG_HEADERS))
async def test_refused_without_the_right_key(
    client: httpx.AsyncClient, method: str, path: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await client.request(method, path, headers=WRONG_HEADERS[case], json=report_body())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"
    assert API_KEY not in response.text
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


BODIES = {
    "malformed JSON": b'{"ticker": "AAPL",',
    "not UTF-8": b"\xff\xfe\x00",
    "over 256 KiB": b"{" + b" " * (300 * 1024) + b"}",
}


@pytest.mark.parametrize("endpoint", ["/generate_report", "/generate_report/stream"])
@pytest.mark.parametrize("case", list(BODIES))
async def test_without_the_key_any_body_is_401(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str, case: str
) -> None:
    headers = {"Content-Type": "application/json"}
    response = await client.post(endpoint, headers=headers, content=BODIES[case])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert ollama.paths == []  # nothing reached the engine, not even a status probe


@pytest.mark.parametrize(("method", "path"), [*PROTECTED[:2], *PROTECTED[4:7]])
async def test_accepted_with_the_right_key(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=AUTH)
    assert response.status_code == 200


async def test_scheme_name_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.get("/models", headers={"Authorization": f"bearer {API_KEY}"})
    assert response.status_code == 200


async def test_report_with_the_right_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/generate_report", headers=AUTH, json=report_body())
    assert response.status_code == 200
    assert response.json()["success"] is True


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200


async def test_the_schema_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json", headers=AUTH)).json()
    (scheme,) = schema["components"]["securitySchemes"].values()
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "description": "The server's ERT_API_KEY",
    }
    assert "security" in schema["paths"]["/generate_report"]["post"]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_keys_are_compared_whole() -> None:
    assert keys_match("abc", "abc")
    assert not keys_match("abc", "abd")
    assert not keys_match("ab", "abc")
    assert not keys_match("", "abc")
