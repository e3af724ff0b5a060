"""The GPU tier client against a scripted server: what is retried, what is not, and the key."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from frontend_app.llm.base import GenerationCancelled, IntegrationError, Notice
from frontend_app.llm.remote import RemoteGpuTier
from vast_ai.schemas import (
    DoneEvent,
    GenerationOptions,
    Rating,
    ReportGrounding,
    ReportMetadata,
    ReportRequest,
    ReportResponse,
    Section,
    SectionDoneEvent,
    StartedEvent,
    TokenEvent,
    Usage,
)

KEY = "ert-secret-key-never-shown-0123456789"
REQUEST = ReportRequest(ticker="AAPL", company_data={"name": "Apple"}, financial_data={})


class Consumer:
    """Drives an integration's `write` and records what it yielded, as the job would see it."""

    def __init__(self, cancel_after_tokens: int | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._cancel_after = cancel_after_tokens

    def cancelled(self) -> bool:
        tokens = sum(1 for name, _ in self.calls if name == "token")
        return self._cancel_after is not None and tokens >= self._cancel_after

    def write(self, tier: RemoteGpuTier) -> ReportResponse:
        writing = tier.write(REQUEST, self.cancelled)
        while True:
            try:
                event = next(writing)
            except StopIteration as finished:
                result: ReportResponse = finished.value
                return result
            if isinstance(event, Notice):
                self.calls.append(("notice", event.message))
            elif isinstance(event, TokenEvent):
                self.calls.append(("token", event.text))
            elif isinstance(event, SectionDoneEvent):
                self.calls.append(("section_done", event.section.id))
            else:
                self.calls.append((type(event).__name__, None))


def report() -> ReportResponse:
    now = datetime.now(UTC)
    section = Section(id="risks", title="Risks", markdown="Rates rise.")
    return ReportResponse(
        success=True,
        report_id="r1",
        ticker="AAPL",
        model="gpt-oss:20b",
        sections={"risks": section},
        rating=Rating(recommendation="hold", conviction="low"),
        grounding=ReportGrounding(),
        usage=Usage(completion_tokens=3),
        metadata=ReportMetadata(
            started_at=now,
            finished_at=now,
            generation_time=1.0,
            engine="ollama",
            prompt_hash="x",
            options=GenerationOptions(),
        ),
    )


def stream_body(*, tokens: int = 2, done: bool = True) -> str:
    events: list[Any] = [StartedEvent(report_id="r1", ticker="AAPL", model="m", sections=["risks"])]
    events += [TokenEvent(section="risks", text=f"t{i} ") for i in range(tokens)]
    events.append(SectionDoneEvent(section=report().sections["risks"]))
    if done:
        events.append(DoneEvent(report=report()))
    return "".join(e.model_dump_json() + "\n" for e in events)


def error(status: int, code: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"error": {"code": code, "message": f"{code} happened"}})
    return Response(body, status=status, headers=headers, content_type="application/json")


def ndjson(body: str) -> Response:
    return Response(body, content_type="application/x-ndjson")


def scripted(httpserver: HTTPServer, *responses: Response) -> list[dict[str, str]]:
    """Answer /generate_report/stream with `responses` in turn; returns the requests' headers."""
    seen: list[dict[str, str]] = []
    queue = list(responses)

    def handler(request: Any) -> Response:
        seen.append(dict(request.headers))
        return queue.pop(0) if len(queue) > 1 else queue[0]

    httpserver.expect_request("/generate_report/stream", method="POST").respond_with_handler(
        handler
    )
    return seen


def client(httpserver: HTTPServer, retries: int = 2) -> RemoteGpuTier:
    return RemoteGpuTier(httpserver.url_for("").rstrip("/"), KEY, 5.0, retries=retries, backoff=0)


def test_streams_tokens_and_returns_the_report_with_the_bearer_key(httpserver: HTTPServer) -> None:
    seen = scripted(httpserver, ndjson(stream_body()))
    consumer = Consumer()
    result = consumer.write(client(httpserver))
    assert result.report_id == "r1"
    # Tokens that arrive in one read are forwarded as one event.
    assert "".join(c[1] for c in consumer.calls if c[0] == "token") == "t0 t1 "
    assert ("section_done", "risks") in consumer.calls
    assert seen[0]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("status, code", [(503, "ollama_unreachable"), (502, "bad_gateway")])
def test_retryable_failures_are_retried_then_succeed(httpserver: HTTPServer, status, code) -> None:
    seen = scripted(httpserver, error(status, code), error(status, code), ndjson(stream_body()))
    consumer = Consumer()
    assert consumer.write(client(httpserver)).success
    assert len(seen) == 3
    assert [c[0] for c in consumer.calls].count("notice") == 2


def test_429_waits_for_retry_after(httpserver: HTTPServer) -> None:
    seen = scripted(
        httpserver, error(429, "queue_full", {"Retry-After": "0"}), ndjson(stream_body())
    )
    consumer = Consumer()
    assert consumer.write(client(httpserver)).success
    assert len(seen) == 2 and "busy" in consumer.calls[0][1]


@pytest.mark.parametrize(
    "status, code, words",
    [
        (401, "unauthorized", "refused the API key"),
        (422, "invalid_request", "refused the request"),
        (413, "payload_too_large", "too large"),
        (503, "model_not_pulled", "cannot reach its model"),
    ],
)
def test_unretryable_failures_are_not_retried(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, status, code, words
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = scripted(httpserver, error(status, code))
    with pytest.raises(IntegrationError) as failure:
        Consumer().write(client(httpserver))
    assert len(seen) == 1
    assert failure.value.code == code and not failure.value.retryable
    assert words in failure.value.message
    assert KEY not in failure.value.message and KEY not in caplog.text


def test_a_stream_that_breaks_after_text_is_not_retried(httpserver: HTTPServer) -> None:
    seen = scripted(httpserver, ndjson(stream_body(done=False)))
    with pytest.raises(IntegrationError) as failure:
        Consumer().write(client(httpserver))
    assert failure.value.code == "stream_ended" and len(seen) == 1


def test_an_error_event_mid_stream_ends_with_its_code(httpserver: HTTPServer) -> None:
    body = (
        stream_body(done=False)
        + '{"type":"error","code":"generation_timeout","message":"slow","retryable":true}\n'
    )
    seen = scripted(httpserver, ndjson(body))
    with pytest.raises(IntegrationError) as failure:
        Consumer().write(client(httpserver))
    assert failure.value.code == "generation_timeout" and len(seen) == 1


def test_a_line_that_is_not_an_event_is_refused(httpserver: HTTPServer) -> None:
    scripted(httpserver, ndjson('{"type": "surprise"}\n'))
    with pytest.raises(IntegrationError) as failure:
        Consumer().write(client(httpserver))
    assert failure.value.code == "bad_stream"


def trickle(body: str, delay: float = 0.01) -> Response:
    """Each line in its own write, `delay` apart: a model writing."""

    def lines() -> Iterator[str]:
        for line in body.splitlines(keepends=True):
            time.sleep(delay)
            yield line

    return Response(lines(), content_type="application/x-ndjson")


def test_tokens_arriving_apart_are_forwarded_one_by_one(httpserver: HTTPServer) -> None:
    scripted(httpserver, trickle(stream_body(tokens=5), delay=0.05))
    consumer = Consumer()
    consumer.write(client(httpserver))
    assert [c[1] for c in consumer.calls if c[0] == "token"] == [f"t{i} " for i in range(5)]


def test_cancel_stops_reading_the_stream(httpserver: HTTPServer) -> None:
    scripted(httpserver, trickle(stream_body(tokens=50)))
    consumer = Consumer(cancel_after_tokens=3)
    with pytest.raises(GenerationCancelled):
        consumer.write(client(httpserver))
    assert sum(1 for c in consumer.calls if c[0] == "token") == 3


def test_an_unreachable_tier_is_retried_then_reported_without_the_key(down_url: str) -> None:
    consumer = Consumer()
    with pytest.raises(IntegrationError) as failure:
        consumer.write(RemoteGpuTier(down_url, KEY, 5.0, retries=1, backoff=0))
    assert failure.value.code == "backend_unreachable" and failure.value.retryable
    assert [c[0] for c in consumer.calls] == ["notice"]
    assert KEY not in failure.value.message


def test_health_and_models_never_raise(down_url: str) -> None:
    tier = RemoteGpuTier(down_url, KEY, 5.0)
    assert tier.health()["status"] == "unreachable"
    assert tier.models() is None
