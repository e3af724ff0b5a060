"""The queue: full gives 429 with Retry-After, the concurrency limit holds, and a client
that hangs up (on the stream or on the whole report) cancels its generation and frees
its slot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

import httpx
import pytest

from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama, Reply, rating_json
from tests.vast_ai.conftest import AUTH, report_body, wait_until
from vast_ai.app import create_app
from vast_ai.queue import AdmissionQueue, QueueFull
from vast_ai.settings import Settings

pytestmark = pytest.mark.anyio

LONG = Reply(text="word " * 400, chunk_delay=0.02)  # about 8 s per call unless stopped


async def test_queue_full_is_429_with_retry_after(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_max_concurrency=1, ert_max_queue=1)
    queue = client._transport.app.state.service.queue  # type: ignore[attr-defined]
    ollama.reply = LONG
    body = report_body(sections=["risks"])
    running = [
        asyncio.create_task(client.post("/generate_report", headers=AUTH, json=body))
        for _ in range(2)
    ]
    assert await wait_until(lambda: queue.active == 1 and queue.waiting == 1)

    refused = await client.post("/generate_report/stream", headers=AUTH, json=body)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"] == {
        "code": "queue_full",
        "message": "The server is busy: every slot and queue place is taken",
        "retryable": True,
    }
    health = (await client.get("/health")).json()
    assert health["queue"] == {"active": 1, "waiting": 1, "limit": 1}
    metrics = (await client.get("/metrics", headers=AUTH)).text
    assert "ert_queue_rejections_total 1.0" in metrics
    ollama.reset()  # ends the slow streams
    await asyncio.gather(*running)


async def test_concurrency_limit_holds_across_reports(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_max_concurrency=2, ert_max_queue=5)
    ollama.responder = lambda body: Reply(
        text=rating_json() if body.get("format") else "Revenue was $391.0B. " * 3, chunk_delay=0.004
    )

    responses = await asyncio.gather(
        *(client.post("/generate_report", headers=AUTH, json=report_body()) for _ in range(3))
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(ollama.chat_requests) == 3 * 7  # six sections and a rating each
    assert ollama.max_in_flight == 2


async def test_sections_run_in_parallel_up_to_the_limit(
    make_client: Callable[..., httpx.AsyncClient], ollama: FakeOllama
) -> None:
    client = make_client(ert_max_concurrency=4)
    ollama.reply = Reply(chunk_delay=0.01)

    response = await client.post("/generate_report", headers=AUTH, json=report_body())

    assert response.status_code == 200
    assert ollama.max_in_flight == 4  # five body sections, four at a time


@pytest.fixture
async def one_slot(
    make_settings: Callable[..., Settings], ollama: FakeOllama
) -> AsyncIterator[tuple[httpx.AsyncClient, AdmissionQueue]]:
    """The GPU tier on uvicorn with one slot and no queue, the model slow (LONG): a client
    and the queue."""
    app = create_app(make_settings(ert_max_concurrency=1, ert_max_queue=0))
    ollama.reply = LONG
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client, app.state.service.queue


async def _assert_stopped_and_freed(
    client: httpx.AsyncClient, queue: AdmissionQueue, ollama: FakeOllama
) -> None:
    """After a hang-up: Ollama's stream closed within 3 s (not the reply's 8 s), the slot
    free, nothing more asked of the model, and the next report written."""
    assert await wait_until(lambda: queue.active == 0 and ollama.in_flight == 0, within=3)
    calls_before = len(ollama.chat_requests)
    await asyncio.sleep(0.1)
    assert len(ollama.chat_requests) == calls_before  # no section or rating after the hang-up
    ollama.reply = None
    again = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"])
    )
    assert again.status_code == 200


async def test_closing_the_stream_cancels_and_frees_the_slot(
    one_slot: tuple[httpx.AsyncClient, AdmissionQueue], ollama: FakeOllama
) -> None:
    client, queue = one_slot
    async with client.stream(
        "POST", "/generate_report/stream", headers=AUTH, json=report_body(sections=["risks"])
    ) as stream:
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        while json.loads(await anext(lines))["type"] != "token":
            pass
        assert ollama.in_flight == 1 and queue.active == 1
        busy = await client.post("/generate_report", headers=AUTH, json=report_body())
        assert busy.status_code == 429
    # The client hung up: the generation stops and Ollama's stream is closed.
    await _assert_stopped_and_freed(client, queue, ollama)


async def test_hanging_up_on_a_whole_report_cancels_it_and_frees_the_slot(
    one_slot: tuple[httpx.AsyncClient, AdmissionQueue], ollama: FakeOllama
) -> None:
    client, queue = one_slot
    async with httpx.AsyncClient(base_url=client.base_url, timeout=10) as hung_up:
        report = asyncio.create_task(
            hung_up.post("/generate_report", headers=AUTH, json=report_body(sections=["risks"]))
        )
        assert await wait_until(lambda: ollama.in_flight == 1 and queue.active == 1)
        busy = await client.post("/generate_report", headers=AUTH, json=report_body())
        assert busy.status_code == 429
        report.cancel()  # the client gives up and closes its connection
        with suppress(asyncio.CancelledError):
            await report

    await _assert_stopped_and_freed(client, queue, ollama)
    metrics = (await client.get("/metrics", headers=AUTH)).text
    assert 'route="/generate_report",status="499"} 1.0' in metrics


async def test_a_client_gone_as_soon_as_its_body_is_sent_leaves_no_place_taken(
    make_settings: Callable[..., Settings], ollama: FakeOllama
) -> None:
    """Straight to the ASGI app: the body, then at once the disconnect."""
    app = create_app(make_settings(ert_max_concurrency=1, ert_max_queue=0))
    ollama.reply = LONG
    body = json.dumps(report_body(sections=["risks"])).encode()
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": body}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"authorization", AUTH["Authorization"].encode())]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/generate_report",
        "raw_path": b"/generate_report",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)

    queue = app.state.service.queue
    assert (queue.active, queue.waiting) == (0, 0)
    assert sent[0]["status"] == 499
    assert await wait_until(lambda: ollama.in_flight == 0, within=3)


async def test_admission_released_once_and_on_cancel() -> None:
    queue = AdmissionQueue(limit=1, max_waiting=1)
    first = queue.admit()
    await first.__aenter__()
    second = queue.admit()
    with pytest.raises(QueueFull):
        queue.admit()

    waiter = asyncio.create_task(second.__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (queue.active, queue.waiting) == (1, 0)

    first.release()
    first.release()
    assert (queue.active, queue.waiting) == (0, 0)
    async with queue.admit():
        assert queue.active == 1
    assert queue.active == 0
