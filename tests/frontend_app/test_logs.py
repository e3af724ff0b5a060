"""The dashboard's log: one line per event, in gunicorn's format, nothing to ignore."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from ert_run import free_port, start_dashboard, wait_healthy
from frontend_app.logs import ErrorsToLog, LogStream
from tests.fakes.yahoo import offline_env
from tests.frontend_app.conftest import BASE_ENV

SHUTDOWN = "server=127.0.0.1:5000//socket.io/ client=127.0.0.1:41 socket shutdown error: [Errno 9]"


def test_each_line_written_to_wsgi_errors_is_one_record(caplog: pytest.LogCaptureFixture) -> None:
    stream = LogStream(logging.getLogger("frontend_app.wsgi"))
    with caplog.at_level(logging.DEBUG, logger="frontend_app.wsgi"):
        stream.write(SHUTDOWN)  # eventlet writes without a newline
        stream.write(SHUTDOWN)
        stream.write("first problem\nsecond problem\n")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", SHUTDOWN),  # a browser left: nothing to act on
        ("DEBUG", SHUTDOWN),
        ("WARNING", "first problem"),
        ("WARNING", "second problem"),
    ]


def test_the_app_hands_libraries_the_log_as_wsgi_errors(make_app) -> None:
    app = make_app()
    assert isinstance(app.wsgi_app, ErrorsToLog)
    seen: dict[str, Any] = {}

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["errors"] = environ["wsgi.errors"]
        return []

    ErrorsToLog(inner)({"wsgi.errors": None}, lambda *a: None)
    assert isinstance(seen["errors"], LogStream)


def test_an_offline_session_logs_each_condition_once(
    tmp_path: Path, remote_env: dict[str, str]
) -> None:
    """gunicorn as Render and `make run` start it, Yahoo unreachable, browsers coming and
    going: every line is one event in gunicorn's format, and nothing repeats."""
    log = tmp_path / "dashboard.log"
    env = {
        **offline_env(os.environ),
        **BASE_ENV,
        **remote_env,
        "ERT_DATA_SOURCE": "auto",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ert.sqlite3'}",
    }
    tier = start_dashboard(env, port=free_port(), log=log)
    try:
        wait_healthy(tier, timeout=60)
        for ticker in ("MSFT", "NVDA", "AAPL", "MSFT"):
            httpx.post(
                f"{tier.url}/api/reports", timeout=30, json={"ticker": ticker}
            ).raise_for_status()
        httpx.get(
            f"{tier.url}/api/tickers/check", timeout=30, params={"q": "nvidia"}
        ).raise_for_status()
        for _ in range(3):  # browsers that open the dashboard and leave
            client = socketio.Client()
            client.connect(tier.url, transports=["websocket"])
            client.disconnect()
        assert httpx.get(f"{tier.url}/favicon.ico", timeout=30).status_code == 200
        assert (
            httpx.get(f"{tier.url}/health", timeout=30).json()["backend"]["remote"]["status"]
            == "healthy"
        )
    finally:
        tier.stop()
    lines = log.read_text().splitlines()
    assert lines and all(
        re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ", line)
        for line in lines
    ), lines
    text = "\n".join(lines)
    noises = ("eprecat", "Control socket", "Cookie", "crumb", "socket shutdown", "HTTP Request")
    for noise in (*noises, "Traceback"):
        assert noise not in text, (noise, lines)
    outage = [line for line in lines if "Yahoo Finance cannot be reached" in line]
    assert len(outage) == 1, lines
    assert "[WARNING] frontend_app.market.service: " in outage[0]
