"""Several dashboard instances sharing a real Redis (REDIS_URL): Socket.IO across instances,
one rate limit for all of them, and Redis missing at start or lost while running."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import socketio

from frontend_app.settings import ConfigError
from frontend_app.shared_redis import MessageQueue
from tests.fakes.ollama import Reply, default_responder, refused_url


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


def test_a_report_started_on_one_instance_is_watched_whole_from_another(
    make_app, start_gunicorn, redis_url, remote_env, ollama, tmp_path
) -> None:
    """A browser's report starts on instance A; the browser comes back on instance B (same
    database, same Redis), subscribes with the job id, and gets what happened so far from the
    database, then the rest live from A through Redis, to the end."""
    slow = Reply(text=" ".join(f"Word{n}" for n in range(150)), chunk_delay=0.04)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    shared = {"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}
    instance_a = make_app(**remote_env, **shared)
    instance_b = start_gunicorn(**remote_env, **shared)
    job_id = instance_a.test_client().post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]

    events: list[tuple[str, dict]] = []
    arrivals: list[float] = []
    ended = threading.Event()
    browser = socketio.Client()
    for name in ("progress", "token", "section", "completed", "failed"):

        def keep(data: dict, name: str = name) -> None:
            events.append((name, data))
            arrivals.append(time.monotonic())
            if name in ("completed", "failed"):
                ended.set()

        browser.on(name, keep)
    browser.connect(instance_b.url, transports=["websocket"])
    try:
        answer = browser.call("subscribe", {"job_id": job_id}, timeout=30)
        subscribed = time.monotonic()
        assert "error" not in (answer or {}), answer
        # A is still writing: the report is not over when the browser arrives on B.
        assert httpx.get(f"{instance_b.url}/api/jobs/{job_id}", timeout=30).json()["state"] in (
            "queued",
            "running",
        )
        assert ended.wait(120), events[-3:]
    finally:
        browser.disconnect()

    assert events[-1][0] == "completed", events[-1]
    assert arrivals[-1] > subscribed  # the end came live, after the replay
    assert events[0][0] == "progress" and events[0][1]["job_id"] == job_id  # from the start
    seqs = [data["seq"] for _, data in events if "seq" in data]
    assert seqs == sorted(set(seqs)), "events repeated or out of order"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "events missing"
    written = "".join(d["text"] for n, d in events if n == "token" and d["section"] == "risks")
    assert written.startswith("Word0 Word1") and "Word149" in written
    report = httpx.get(f"{instance_b.url}/api/reports/{events[-1][1]['report_id']}", timeout=30)
    assert report.status_code == 200  # the report A wrote, read by B
