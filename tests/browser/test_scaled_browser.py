"""A scaled dashboard in headless Chromium: REDIS_URL set (Socket.IO through Redis, the page
on WebSocket alone), a report worker writing the reports (ERT_REPORT_WORKERS), and two GPU
tiers listed, the second one down."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ert_run import dashboard_env, free_port, start_dashboard, wait_healthy
from tests.browser.conftest import both_tiers, shot
from tests.fakes.ollama import FakeOllama, Reply, default_responder, refused_url
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


@dataclass
class Scaled:
    """A scaled dashboard (its URL, its SQLite file) and its report workers."""

    url: str
    database: Path
    env: dict[str, str]
    log_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.workers)}.log").open("wb")
        command = [sys.executable, "-m", "frontend_app.worker"]
        self.workers.append(
            subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        )
        return self.workers[-1]


@pytest.fixture(scope="module")
def scaled(
    ollama: FakeOllama, redis_session: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scaled]:
    """A dashboard as Render runs it, on Redis, with a report worker, the GPU tier `make run`
    starts and a second tier that is down."""
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
        scaled = Scaled(dashboard.url, tmp / "scaled.sqlite3", env, tmp)
        scaled.start_worker()
        try:
            wait_healthy(dashboard, timeout=60)
            yield scaled
        finally:
            for worker in scaled.workers:
                worker.terminate()
                worker.wait(60)
            dashboard.stop()


def test_the_light_shows_each_tier_and_a_report_streams_over_websocket_alone(
    scaled: Scaled, page: Any
) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(scaled.url)
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
    with sqlite3.connect(scaled.database) as database:  # written by the report worker
        assert [row[0][:7] for row in database.execute("SELECT instance FROM jobs")] == ["worker-"]


def test_a_page_follows_its_report_to_the_end_when_the_worker_writing_it_is_killed(
    scaled: Scaled, page: Any, ollama: FakeOllama
) -> None:
    """The worker that takes the report up numbers its events far past the dead one's, so
    the page sees a hole in `seq`: a second later it watches the job again from its log, and
    goes on (without that it would hold every later event and never reach the report)."""
    slow = Reply(text="word " * 200, chunk_delay=0.05)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    try:
        page.goto(scaled.url)
        page.fill("#ticker", "CRM")
        page.wait_for_selector("#ticker-hint:has-text('CRM')")
        page.click("#generate")
        deadline = time.monotonic() + 60  # the page's CSP forbids evaluated scripts: poll
        while not any(len(t) > 40 for t in page.locator("#live-sections pre").all_text_contents()):
            assert time.monotonic() < deadline, "no text streamed"
            page.wait_for_timeout(100)
        scaled.workers[-1].kill()
        scaled.workers[-1].wait(30)
        scaled.start_worker()
        page.wait_for_url("**/reports/*", timeout=180_000)
    finally:
        ollama.responder = default_responder
    with sqlite3.connect(scaled.database) as database:
        (restarts,) = database.execute(
            "SELECT restarts FROM jobs WHERE ticker = 'CRM' AND state = 'completed'"
        ).fetchone()
    assert restarts == 1  # written again by the second worker, after the hole
    assert page.dialogs == []
