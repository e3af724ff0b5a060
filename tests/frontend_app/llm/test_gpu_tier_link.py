"""The link to the GPU tier as deployed: TLS with a pinned certificate (a server with another
is refused before the key leaves), the key checked for the status light, and a cancel that
takes effect while the model is silent."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from frontend_app.llm.base import IntegrationError
from frontend_app.llm.remote import RemoteGpuTier
from tests.fakes.tls import TlsRecorder, tls_files
from tests.frontend_app.conftest import API_KEY, pinned_env, silent_model
from vast_ai.schemas import ReportRequest

REQUEST = ReportRequest(ticker="AAPL", company_data={"name": "Apple"}, financial_data={})


def test_a_pinned_dashboard_writes_through_the_tls_gpu_tier(
    make_app, watcher, tls_gpu_tier, ollama
) -> None:
    url, pin = tls_gpu_tier
    app = make_app(**pinned_env(url, pin))
    health = app.test_client().get("/health").json["backend"]["remote"]
    assert health["status"] == "healthy" and health["queue"]["limit"] >= 1

    client = watcher(app)
    done = client.wait_done(client.emit("generate", {"ticker": "AAPL"})["job_id"], timeout=30)
    assert done["event"] == "completed", done
    assert app.extensions["ert"].store.get(done["report_id"]).integration == "remote"


def test_a_server_with_another_certificate_is_refused_and_never_gets_the_key(
    make_app, watcher, tls_gpu_tier, impostor
) -> None:
    _, pin = tls_gpu_tier  # the real GPU tier's fingerprint, but the impostor answers
    app = make_app(**pinned_env(impostor.url, pin))

    health = app.test_client().get("/health").json["backend"]["remote"]
    assert health["status"] == "certificate_refused"
    assert "ERT_LLM_TLS_FINGERPRINT" in health["message"] and pin in health["message"]

    client = watcher(app)
    done = client.wait_done(client.emit("generate", {"ticker": "AAPL"})["job_id"], timeout=30)
    said = [p["message"] for name, p in client.events if name == "progress"]
    assert any("certificate was refused" in m and "Falling back" in m for m in said), said
    assert app.extensions["ert"].store.get(done["report_id"]).integration == "data_only"
    assert impostor.handshakes >= 1 and impostor.received == b""  # not a byte, so no key


def test_a_certificate_that_changes_after_pinning_is_refused_by_name(tmp_path_factory) -> None:
    with tls_files(tmp_path_factory) as (pin, real_files), TlsRecorder(**real_files) as real:
        tier = RemoteGpuTier(real.url, API_KEY, 5.0, fingerprint=pin)
        assert tier.health()["status"] != "certificate_refused"
        assert API_KEY.encode() in real.received  # the pinned server gets the key
        port = real.port
    with tls_files(tmp_path_factory) as (_, other), TlsRecorder(**other, port=port) as swapped:
        status = tier.health()
        assert status["status"] == "certificate_refused", status
        assert "ERT_LLM_TLS_FINGERPRINT" in status["message"]
        assert swapped.received == b""
        with pytest.raises(IntegrationError) as refused:
            next(tier.write(REQUEST, lambda: False))
        assert refused.value.code == "certificate_refused" and not refused.value.retryable
        assert swapped.received == b""
    tier.close()


def test_a_refused_key_turns_the_status_red_and_says_so(make_app, gpu_tier) -> None:
    app = make_app(
        REMOTE_LLM_INTEGRATION="true",
        ERT_LLM_BACKEND_URL=gpu_tier,
        ERT_LLM_API_KEY="ert-not-the-key-0123456789abcdefgh",
    )
    remote = app.test_client().get("/health").json["backend"]["remote"]
    assert remote["status"] == "key_refused"
    assert remote["message"] == "The GPU tier refused the API key (check ERT_LLM_API_KEY)"
    right = make_app(REMOTE_LLM_INTEGRATION="true", ERT_LLM_BACKEND_URL=gpu_tier)
    assert right.test_client().get("/health").json["backend"]["remote"]["status"] == "key_refused"


def gpu_queue(url: str) -> dict[str, Any]:
    queue: dict[str, Any] = httpx.get(f"{url}/health", timeout=5).json()["queue"]
    return queue


def test_cancel_takes_effect_at_once_while_the_model_is_silent_and_frees_the_gpu_slot(
    make_app, watcher, remote_env, gpu_tier, ollama
) -> None:
    silent_model(ollama, 15)
    app = make_app(**remote_env, ERT_LLM_TIMEOUT="60")
    client = watcher(app)
    job_id = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    client.wait_for("progress", lambda p: p["stage"] == "generating" and "section" in p)
    deadline = time.monotonic() + 10
    while gpu_queue(gpu_tier)["active"] == 0:  # the GPU tier holds a slot for it
        assert time.monotonic() < deadline
        time.sleep(0.05)

    asked = time.monotonic()
    assert client.emit("cancel", {"job_id": job_id})["cancelling"] is True
    done = client.wait_done(job_id, timeout=10)
    took = time.monotonic() - asked
    assert done["event"] == "failed" and done["code"] == "cancelled"
    assert took < 5, f"cancel took {took:.2f} s; the model stays silent for 15 s"
    deadline = time.monotonic() + 5
    while gpu_queue(gpu_tier)["active"]:  # the GPU tier saw the hang-up and freed the slot
        assert time.monotonic() < deadline, gpu_queue(gpu_tier)
        time.sleep(0.05)
