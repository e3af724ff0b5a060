"""The dashboard under gunicorn's eventlet worker, started exactly as `make run` and Render do.

This is the proof that the asyncio report writer (in-process paths: Ollama directly and
the data-only writer) runs safely in the monkey-patched process: it runs on an OS
thread with its own event loop, and the worker keeps answering while it writes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from ert_run import Tier, free_port, start_dashboard, wait_healthy
from tests.fakes.ollama import Reply, default_responder
from tests.frontend_app.conftest import API_KEY, BASE_ENV, PASSWORD, pinned_env, silent_model


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator[Any]:
    started: list[tuple[Tier, Path]] = []

    def start(host: str = "127.0.0.1", wait: bool = True, **env: str) -> Tier:
        log = tmp_path / f"gunicorn-{len(started)}.log"
        full_env = {
            **os.environ,
            **BASE_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / f'g{len(started)}.sqlite3'}",
            **env,
        }
        tier = start_dashboard(full_env, port=free_port(), log=log, host=host)
        started.append((tier, log))
        if wait:
            wait_healthy(tier, timeout=30)
        return tier

    yield start
    for tier, log in started:
        tier.stop()
        assert API_KEY not in log.read_text(errors="replace")  # the key never reaches the logs


def generate_over_websocket(
    url: str, health_probe: bool = False, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], list, list]:
    """Generate AAPL with a real Socket.IO client: (terminal event, all events, /health times)."""
    events: list[tuple[str, dict[str, Any]]] = []
    done = threading.Event()
    client = socketio.Client()
    for name in ("progress", "token", "section", "completed", "failed"):

        def handler(data: dict[str, Any], name: str = name) -> None:
            events.append((name, data))
            if name in ("completed", "failed"):
                done.set()

        client.on(name, handler)
    client.connect(url, headers=headers or {}, transports=["websocket"])
    try:
        ack = client.call("generate", {"ticker": "AAPL"}, timeout=10)
        assert "job_id" in ack, ack
        health_times: list[float] = []
        while not done.wait(0.1):
            if health_probe and not any(n == "completed" for n, _ in events):
                started = time.perf_counter()
                assert httpx.get(f"{url}/health", timeout=5).status_code == 200
                health_times.append(time.perf_counter() - started)
            assert len(events) < 100_000
        assert done.wait(60)
        terminal = next(e for e in events if e[0] in ("completed", "failed"))
        return {"event": terminal[0], **terminal[1]}, events, health_times
    finally:
        client.disconnect()


def test_ollama_direct_runs_the_asyncio_writer_under_the_eventlet_worker(
    start_gunicorn, ollama
) -> None:
    text = Reply(
        text="Revenue reached $391.0B while the shares trade at 38.8x earnings, and the gross "
        "margin held at 46.2% as the net margin stayed at 24.0%.",
        chunk_delay=0.02,
    )
    ollama.responder = lambda body: default_responder(body) if body.get("format") else text
    tier = start_gunicorn(OLLAMA_INTEGRATION="true", OLLAMA_HOST=ollama.url)
    done, events, health_times = generate_over_websocket(tier.url, health_probe=True)

    assert done["event"] == "completed", done
    assert sum(1 for name, _ in events if name == "token") >= 6 * 5
    report = httpx.get(f"{tier.url}/api/reports/{done['report_id']}", timeout=30).json()
    assert report["integration"] == "ollama" and report["model"] == "gpt-oss:20b"
    assert ollama.chat_requests
    # The worker kept serving while the writer ran on its own thread and event loop.
    assert health_times and max(health_times) < 1.0


def test_data_only_writer_under_the_eventlet_worker_after_ollama_is_down(
    start_gunicorn, down_url
) -> None:
    tier = start_gunicorn(OLLAMA_INTEGRATION="true", OLLAMA_HOST=down_url)
    done, events, _ = generate_over_websocket(tier.url)

    assert done["event"] == "completed", done
    said = [p["message"] for n, p in events if n == "progress"]
    assert any("Falling back to the data-only writer" in m for m in said)
    report = httpx.get(f"{tier.url}/api/reports/{done['report_id']}", timeout=30).json()
    assert report["integration"] == "data_only"
    # The first export of a report draws its charts (seconds on a busy machine).
    pdf = httpx.get(f"{tier.url}/reports/{done['report_id']}.pdf", timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_remote_gpu_tier_streams_through_the_eventlet_worker(
    start_gunicorn, remote_env, ollama
) -> None:
    tier = start_gunicorn(**remote_env)
    done, events, _ = generate_over_websocket(tier.url)
    assert done["event"] == "completed", done
    assert any(name == "token" for name, _ in events)
    health = httpx.get(f"{tier.url}/health", timeout=30).json()
    assert health["backend"]["remote"]["status"] == "healthy"


def cancel_while_silent(url: str) -> tuple[dict[str, Any], float]:
    """Generate, wait until the GPU tier is writing, cancel: (terminal event, seconds it took)."""
    events: list[tuple[str, dict[str, Any]]] = []
    done = threading.Event()
    writing = threading.Event()
    client = socketio.Client()

    def on_progress(data: dict[str, Any]) -> None:
        if data["stage"] == "generating" and "section" in data:
            writing.set()

    def on_failed(data: dict[str, Any]) -> None:
        events.append(("failed", data))
        done.set()

    client.on("progress", on_progress)
    client.on("failed", on_failed)
    client.on("completed", lambda data: (events.append(("completed", data)), done.set()))
    client.connect(url, transports=["websocket"])
    try:
        job_id = client.call("generate", {"ticker": "AAPL"}, timeout=10)["job_id"]
        assert writing.wait(20)
        time.sleep(0.3)  # the model is silent now
        asked = time.monotonic()
        assert client.call("cancel", {"job_id": job_id}, timeout=10)["cancelling"] is True
        assert done.wait(20)
        return {"event": events[0][0], **events[0][1]}, time.monotonic() - asked
    finally:
        client.disconnect()


def test_the_pinned_tls_gpu_tier_through_the_eventlet_worker(
    start_gunicorn, tls_gpu_tier, ollama
) -> None:
    tier = start_gunicorn(**pinned_env(*tls_gpu_tier), ERT_LLM_TIMEOUT="60")
    assert (
        httpx.get(f"{tier.url}/health", timeout=30).json()["backend"]["remote"]["status"]
        == "healthy"
    )
    done, _, _ = generate_over_websocket(tier.url)
    assert done["event"] == "completed", done
    report = httpx.get(f"{tier.url}/api/reports/{done['report_id']}", timeout=30).json()
    assert report["integration"] == "remote"

    # Cancel through green TLS while the model is silent: the hang-up ends the read at once.
    silent_model(ollama, 15)
    cancelled, took = cancel_while_silent(tier.url)
    assert cancelled["event"] == "failed" and cancelled["code"] == "cancelled"
    assert took < 5, f"cancel took {took:.2f} s; the model stays silent for 15 s"


def test_a_server_with_another_certificate_is_refused_by_the_eventlet_worker(
    start_gunicorn, tls_gpu_tier, impostor
) -> None:
    _, pin = tls_gpu_tier  # the real GPU tier's fingerprint, but the impostor answers
    tier = start_gunicorn(**pinned_env(impostor.url, pin))
    remote = httpx.get(f"{tier.url}/health", timeout=30).json()["backend"]["remote"]
    assert remote["status"] == "certificate_refused"
    assert "ERT_LLM_TLS_FINGERPRINT" in remote["message"]
    done, events, _ = generate_over_websocket(tier.url)
    said = [p["message"] for name, p in events if name == "progress"]
    assert any("certificate was refused" in m for m in said), said
    report = httpx.get(f"{tier.url}/api/reports/{done['report_id']}", timeout=30).json()
    assert report["integration"] == "data_only"
    assert impostor.handshakes >= 1 and impostor.received == b""


def test_a_dashboard_other_machines_can_reach_needs_an_account_and_sign_in(
    start_gunicorn,
) -> None:
    refused = start_gunicorn(host="0.0.0.0", wait=False)
    assert refused.process.wait(60) != 0
    said = refused.log.read_text()
    assert "sign-in is required (listening on 0.0.0.0:" in said
    assert "flask --app frontend_app users add EMAIL" in said

    tier = start_gunicorn(
        host="0.0.0.0", ERT_ADMIN_EMAIL="ops@example.com", ERT_ADMIN_PASSWORD=PASSWORD
    )
    assert (
        httpx.post(f"{tier.url}/api/reports", timeout=30, json={"ticker": "AAPL"}).status_code
        == 401
    )
    assert "backend" not in httpx.get(f"{tier.url}/health", timeout=30).json()
    anonymous, refusals = socketio.Client(), []
    anonymous.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(tier.url, transports=["websocket"])
    assert refusals and "sign_in_required" in str(refusals[0]), refusals

    with httpx.Client(base_url=tier.url) as browser:
        form = browser.get("/login").text
        token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed = browser.post(
            "/login",
            data={"email": "ops@example.com", "password": PASSWORD, "csrf_token": token},
        )
        assert signed.status_code == 302
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    done, _, _ = generate_over_websocket(tier.url, headers={"Cookie": cookie})
    assert done["event"] == "completed", done
    # The same cookie from a page of another site (cross-site WebSocket hijacking): refused.
    hijacker = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        hijacker.connect(
            tier.url,
            headers={"Cookie": cookie, "Origin": "https://evil.example"},
            transports=["websocket"],
        )


def test_a_dashboard_on_loopback_without_accounts_runs_open_and_says_so(start_gunicorn) -> None:
    tier = start_gunicorn()
    assert "backend" in httpx.get(f"{tier.url}/health", timeout=30).json()
    assert "Sign-in is OFF" in tier.log.read_text()
