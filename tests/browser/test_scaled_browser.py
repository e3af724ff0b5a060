"""A scaled dashboard in headless Chromium: REDIS_URL set (Socket.IO through Redis, the page
on WebSocket alone), a report worker writing the reports (ERT_REPORT_WORKERS), and two GPU
tiers listed, the second one down."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ert_run import dashboard_env, free_port, start_dashboard, wait_healthy
from tests.browser.conftest import both_tiers, shot
from tests.fakes.ollama import FakeOllama, refused_url
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scaled(
    ollama: FakeOllama, redis_session: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A dashboard as Render runs it, on Redis, with a report worker, the GPU tier `make run`
    starts and a second tier that is down: its URL and its SQLite file."""
    tmp = tmp_path_factory.mktemp("scaled")
    with both_tiers(ollama, tmp, ERT_DATA_SOURCE="snapshot") as started:
        env = dashboard_env(
            started["key"],
            f"{started['gpu']},{refused_url()}",
            {
                **os.environ,
                "ERT_DATA_SOURCE": "snapshot",
                "DATABASE_URL": f"sqlite:///{tmp / 'scaled.sqlite3'}",
                "REDIS_URL": redis_session.url,
                "ERT_REPORT_WORKERS": "true",
            },
        )
        dashboard = start_dashboard(env, port=free_port(), log=tmp / "scaled.log")
        worker_log = (tmp / "worker.log").open("wb")
        command = [sys.executable, "-m", "frontend_app.worker"]
        worker = subprocess.Popen(command, env=env, stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(dashboard, timeout=60)
            yield dashboard.url, tmp / "scaled.sqlite3"
        finally:
            worker.terminate()
            worker.wait(60)
            dashboard.stop()


def test_the_light_shows_each_tier_and_a_report_streams_over_websocket_alone(
    scaled: tuple[str, Path], page: Any
) -> None:
    url, database_file = scaled
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(url)
    light = page.wait_for_selector("#backend-status[data-state='degraded']", timeout=20_000)
    assert light.text_content().strip() == "GPU tier 1 healthy · GPU tier 2 unreachable"
    assert "GPU tier 2 (http://127.0.0.1:" in light.get_attribute("title")
    shot(page, "10-scaled-two-gpu-tiers.png")

    page.fill("#ticker", "AAPL")
    page.wait_for_selector("#ticker-hint:has-text('AAPL · Apple Inc.')")
    page.click("#generate")
    page.wait_for_url("**/reports/*", timeout=90_000)
    assert "figures verified" in page.text_content(".grounding")
    assert sockets and all(url.startswith("ws://") for url in sockets), sockets
    assert page.dialogs == []
    with sqlite3.connect(database_file) as database:  # written by the report worker
        assert [row[0][:7] for row in database.execute("SELECT instance FROM jobs")] == ["worker-"]
