"""Nothing lost (issue 11): the dashboard under gunicorn's eventlet worker, as Render runs
it, on PostgreSQL and on SQLite (the blueprint's file on a disk), writing a report through
the GPU tier while the model streams slowly, is stopped mid-report (SIGTERM, SIGKILL) and
started again. A Socket.IO client that subscribes again with the same job id gets the
whole log so far, then the report written again from its inputs ("Restarted after a
server restart") to the end; a report cut twice ends `interrupted`, and Retry writes it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from ert_run import Tier, free_port, start_dashboard, wait_healthy
from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.frontend_app.conftest import API_KEY, BASE_ENV
from tests.postgres import new_database

pytestmark = pytest.mark.slow

SLOW_TEXT = " ".join(f"Revenue grew {n} percent." for n in range(30))


class Browser:
    """A python-socketio client that keeps every event of the job it watches."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ended = threading.Event()
        self.client = socketio.Client(reconnection=False)
        for name in ("progress", "token", "section", "completed", "failed"):
            self.client.on(name, self._keep(name))
        self.client.connect(url, transports=["websocket"])

    def _keep(self, name: str) -> Callable[[dict[str, Any]], None]:
        def keep(data: dict[str, Any]) -> None:
            self.events.append((name, data))
            if name in ("completed", "failed"):
                self.ended.set()

        return keep

    def wait_for(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(n == name for n, _ in self.events):
            assert time.monotonic() < deadline, f"no {name} within {timeout} s: {self.events}"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture(params=["postgresql", "sqlite"])
def dashboard(
    request: pytest.FixtureRequest, tmp_path: Path, gpu_tier: str, ollama: FakeOllama
) -> Iterator[Callable[[], Tier]]:
    """`start()`: the dashboard as Render starts it, on one database (PostgreSQL, or a
    SQLite file), against the GPU tier whose model writes each section slowly."""
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'ert.sqlite3'}"
    else:
        database = new_database(request.getfixturevalue("postgres"))
    slow = Reply(text=SLOW_TEXT, tokens_per_second=40)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": database,
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": gpu_tier,
        "ERT_LLM_API_KEY": API_KEY,
        "ERT_LLM_TIMEOUT": "30",
        "ERT_SHUTDOWN_GRACE": "1",
    }
    port = free_port()
    started: list[Tier] = []

    def start() -> Tier:
        log = tmp_path / f"dashboard-{len(started)}.log"
        tier = start_dashboard(env, port=port, log=log)
        started.append(tier)
        wait_healthy(tier, timeout=60)
        return tier

    yield start
    for tier in started:
        tier.stop()


def _workers(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in children.split()]


def _kill(tier: Tier) -> None:
    """SIGKILL, the worker with its master (as when Render's container is killed)."""
    for pid in _workers(tier.process.pid):
        os.kill(pid, signal.SIGKILL)
    tier.process.kill()
    tier.process.wait(30)


def _terminate(tier: Tier) -> None:
    tier.process.send_signal(signal.SIGTERM)
    tier.process.wait(60)


def _mid_report(start: Callable[[], Tier]) -> tuple[Tier, str, list[tuple[str, dict[str, Any]]]]:
    """A dashboard writing a report, stopped by nobody yet, with text streaming."""
    tier = start()
    browser = Browser(tier.url)
    ack = browser.client.call("generate", {"ticker": "AAPL"}, timeout=30)
    assert "job_id" in ack, ack
    browser.wait_for("token", timeout=60)
    time.sleep(1.5)  # more text, and the job log written meanwhile (every 0.25 s)
    seen = list(browser.events)
    browser.close()
    return tier, ack["job_id"], seen


def _watch_to_the_end(tier: Tier, job_id: str, timeout: float) -> list[tuple[str, Any]]:
    browser = Browser(tier.url)
    ack = browser.client.call("subscribe", {"job_id": job_id}, timeout=30)
    assert ack.get("job_id") == job_id, ack
    assert browser.ended.wait(timeout), browser.events
    time.sleep(0.3)
    browser.close()
    return browser.events


def _texts(events: list[tuple[str, Any]]) -> dict[str, str]:
    """Each section's text in these events (sections are written at once, interleaved)."""
    texts: dict[str, str] = {}
    for name, data in events:
        if name == "token":
            texts[data["section"]] = texts.get(data["section"], "") + data["text"]
    return texts


def _check_whole(
    seen: list[tuple[str, Any]], after: list[tuple[str, Any]], *, killed: bool
) -> None:
    """The log replayed after the restart holds what was seen before it (after a kill, what
    was written before it: each section's replayed text is the start of what the browser saw,
    and something was written; what came since the last write, a quarter second or more on a
    busy machine, is gone), then the report written again from the start, to the end."""
    restart = next(i for i, (n, d) in enumerate(after) if n == "progress" and d.get("reset"))
    replayed = _texts(after[:restart])
    for section, text in _texts(seen).items():
        if killed:
            assert text.startswith(replayed.get(section, "")), (section, text, replayed)
        else:
            assert replayed.get(section, "").startswith(text), (section, text, replayed)
    assert any(replayed.values()), "nothing of the text was written before the stop"
    stages_seen = [d["stage"] for n, d in seen if n == "progress"]
    stages_replayed = [d["stage"] for n, d in after[:restart] if n == "progress"]
    shorter = min(len(stages_seen), len(stages_replayed)) if killed else len(stages_seen)
    assert stages_replayed[:shorter] == stages_seen[:shorter]
    assert "Restarted after a server restart" in after[restart][1]["message"]
    assert after[-1][0] == "completed", after[-1]
    seqs = [d["seq"] for _, d in after]
    assert seqs == sorted(seqs)


def _report_opens(tier: Tier, job_id: str) -> None:
    body = httpx.get(f"{tier.url}/api/jobs/{job_id}", timeout=10).json()
    assert body["state"] == "completed", body
    assert httpx.get(f"{tier.url}{body['url']}", timeout=30).status_code == 200


@pytest.mark.parametrize("stop", [_terminate, _kill], ids=["sigterm", "sigkill"])
def test_a_report_cut_by_a_stop_is_finished_by_the_next_process(
    dashboard: Callable[[], Tier], stop: Callable[[Tier], None]
) -> None:
    tier, job_id, seen = _mid_report(dashboard)
    stop(tier)  # SIGTERM: the grace period (1 s) is too short for the report
    again = dashboard()
    if stop is _kill:
        # Until the dead process's lease runs out, the job is replayed as it was left.
        body = httpx.get(f"{again.url}/api/jobs/{job_id}", timeout=10).json()
        assert body["state"] == "running", body
    after = _watch_to_the_end(again, job_id, timeout=180)
    _check_whole(seen, after, killed=stop is _kill)
    _report_opens(again, job_id)


def test_a_report_cut_twice_ends_interrupted_and_retry_writes_it(
    dashboard: Callable[[], Tier],
) -> None:
    tier, job_id, _ = _mid_report(dashboard)
    _terminate(tier)
    again = dashboard()
    browser = Browser(again.url)
    browser.client.call("subscribe", {"job_id": job_id}, timeout=30)
    deadline = time.monotonic() + 60
    while not any(n == "progress" and d.get("reset") for n, d in browser.events):
        assert time.monotonic() < deadline, browser.events
        time.sleep(0.05)
    browser.close()
    _terminate(again)
    third = dashboard()
    after = _watch_to_the_end(third, job_id, timeout=60)
    name, failed = after[-1]
    assert (name, failed["code"]) == ("failed", "interrupted"), after[-1]
    assert httpx.get(f"{third.url}/api/jobs/{job_id}", timeout=10).json()["state"] == (
        "interrupted"
    )
    retry = httpx.post(f"{third.url}/api/jobs/{job_id}/retry", timeout=30)
    assert retry.status_code == 202, retry.text
    new_job = retry.json()["job_id"]
    events = _watch_to_the_end(third, new_job, timeout=120)
    assert events[-1][0] == "completed", events[-1]
    _report_opens(third, new_job)
