"""The dashboard with its database down (PostgreSQL stopped under it): every page, API call
and Socket.IO request that needs the database answers 503 "ERT cannot reach its
database: try again in 1 minute", with Retry-After; never a 500 or a trace."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from flask import Flask

from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.frontend_app.web.test_http import wait_for_report
from tests.postgres import Unavailable, new_database, postgres_server

SAID = "ERT cannot reach its database: try again in 1 minute"


@contextmanager
def database_server() -> Iterator[str]:
    """A PostgreSQL server of the test's own (stopped when the block ends): a database's URL."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except Unavailable as exc:
            pytest.skip(f"PostgreSQL tests skipped: {exc}")
        yield new_database(url).replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def app_whose_database_stopped(make_app: Callable[..., Flask]) -> tuple[Flask, str, str]:
    """A dashboard that wrote a report on PostgreSQL, whose server is then stopped: the
    app, the job's id and the report's id."""
    with database_server() as database:
        app = make_app(DATABASE_URL=database)
        job_id = app.test_client().post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
        report_id = wait_for_report(app, job_id)
    return app, job_id, report_id


def test_with_its_database_down_the_dashboard_says_so_and_answers_503(
    app_whose_database_stopped: tuple[Flask, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    app, job_id, report_id = app_whose_database_stopped
    http = app.test_client()
    for path in (
        "/api/reports",
        f"/api/reports/{report_id}",
        f"/reports/{report_id}",
        f"/reports/{report_id}.md",
        "/api/jobs/a-job-this-process-never-held",
    ):
        answer = http.get(path)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 503, (path, text[:300])
        assert SAID in text and "Traceback" not in text, (path, text[:300])
        assert answer.headers["Retry-After"] == "60"
    held = http.get(f"/api/jobs/{job_id}")  # a job this process holds: from its memory
    assert held.status_code == 200 and held.json["state"] == "completed"
    refused = http.post("/api/reports", json={"ticker": "MSFT"})
    assert refused.status_code == 503 and refused.json["error"]["code"] == "database_unavailable"

    socket = app.extensions["socketio"].test_client(app)
    ack: dict[str, Any] = socket.emit("subscribe", {"job_id": "elsewhere"}, callback=True)
    assert ack["error"]["message"] == SAID
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text
    assert "The database does not answer" in caplog.text


def test_a_report_whose_database_stops_while_it_is_written_says_so(
    make_app: Callable[..., Flask], remote_env: dict[str, str], ollama: FakeOllama
) -> None:
    slow = Reply(text="Revenue grew. " * 40, chunk_delay=0.05)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    with database_server() as database:
        app = make_app(DATABASE_URL=database, **remote_env)
        http = app.test_client()
        job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
        deadline = time.monotonic() + 30
        while http.get(f"/api/jobs/{job_id}").json["stage"] != "generating":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    deadline = time.monotonic() + 60
    while (job := http.get(f"/api/jobs/{job_id}").json)["state"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == "database_unavailable" and job["error"]["message"] == SAID
