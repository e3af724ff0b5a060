"""Several dashboard instances sharing a real Redis (REDIS_URL): Socket.IO across instances,
one rate limit for all of them, and Redis missing at start or lost while running."""

from __future__ import annotations

import threading

import httpx
import pytest
import socketio

from frontend_app.settings import ConfigError
from frontend_app.shared_redis import MessageQueue
from tests.fakes.ollama import refused_url


def test_without_redis_url_the_dashboard_stays_one_process(make_app) -> None:
    app = make_app()
    assert not isinstance(app.extensions["socketio"].server.manager, MessageQueue)
    assert "redis" not in app.test_client().get("/health").json["backend"]
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'data-transports="websocket,polling"' in page


def test_redis_that_does_not_answer_stops_the_start_naming_redis_url(make_app) -> None:
    url = refused_url().replace("http://", "redis://:hunter2-password@") + "/0"
    with pytest.raises(ConfigError, match=r"REDIS_URL: Redis at 127\.0\.0\.1:\d+ does not answer"):
        make_app(REDIS_URL=url)
    with pytest.raises(ConfigError) as failure:
        make_app(REDIS_URL=url)
    assert "hunter2" not in str(failure.value)


def test_a_redis_url_of_another_kind_is_refused_by_name(make_app) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL must be a redis://"):
        make_app(REDIS_URL="http://127.0.0.1:6379")


def test_an_unreachable_redis_under_gunicorn_is_one_clear_line(start_gunicorn) -> None:
    url = refused_url().replace("http://", "redis://") + "/0"
    refused = start_gunicorn(wait=False, REDIS_URL=url)
    assert refused.process.wait(60) != 0
    said = refused.log.read_text()
    assert "REDIS_URL: Redis at 127.0.0.1:" in said
    assert "Traceback" not in said


def test_an_event_emitted_by_one_instance_reaches_a_browser_on_another(
    make_app, start_gunicorn, redis_url
) -> None:
    """Instance B serves the browser (gunicorn, eventlet, as on Render); instance A, another
    app on the same Redis, emits to that browser's socket."""
    instance_b = start_gunicorn(REDIS_URL=redis_url)
    instance_a = make_app(REDIS_URL=redis_url)
    received: list[dict] = []
    arrived = threading.Event()
    browser = socketio.Client()

    @browser.on("progress")
    def on_progress(data: dict) -> None:
        received.append(data)
        arrived.set()

    browser.connect(instance_b.url, transports=["websocket"])
    try:
        sid = browser.get_sid()
        assert sid is not None
        payload = {"job_id": "from-a", "stage": "generating", "message": "hello from A"}
        # A's listener may subscribe a moment after the app is made: emit until it arrives.
        for _ in range(200):
            instance_a.extensions["socketio"].emit("progress", payload, to=sid)
            if arrived.wait(0.1):
                break
        assert received and received[0] == payload
    finally:
        browser.disconnect()


def test_scaled_instances_speak_websocket_only_and_the_page_says_so(
    start_gunicorn, redis_url
) -> None:
    """No sticky sessions needed: a long-polling session (several requests that a load
    balancer could send to different instances) is refused."""
    instance = start_gunicorn(REDIS_URL=redis_url)
    page = httpx.get(f"{instance.url}/").text
    assert 'data-transports="websocket"' in page
    polling = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        polling.connect(instance.url, transports=["polling"])
    assert httpx.get(f"{instance.url}/health").json()["backend"]["redis"] == "ok"


def test_a_person_cannot_multiply_the_rate_limit_by_the_instances(make_app, redis_url) -> None:
    limits = {"ERT_REPORTS_PER_ADDRESS": "3/minute", "REDIS_URL": redis_url}
    first, second = make_app(**limits), make_app(**limits)
    answers = [
        app.test_client().post("/api/reports", json={"ticker": "AAPL"}).status_code
        for app in (first, second, first, second)
    ]
    assert answers == [202, 202, 202, 429]


def test_redis_lost_while_running_refuses_new_reports_then_recovers(make_app, own_redis) -> None:
    app = make_app(REDIS_URL=own_redis.url)
    http = app.test_client()
    assert http.post("/api/reports", json={"ticker": "AAPL"}).status_code == 202

    own_redis.stop()
    refused = http.post("/api/reports", json={"ticker": "AAPL"})
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "temporarily_unavailable"
    assert "temporarily unavailable" in refused.json["error"]["message"]
    assert int(refused.headers["Retry-After"]) > 0
    health = http.get("/health")
    assert health.status_code == 200

    own_redis.start()
    assert http.post("/api/reports", json={"ticker": "AAPL"}).status_code == 202
