"""Report workers (ERT_REPORT_WORKERS), end to end with real parts: two dashboard instances
(gunicorn, eventlet, as on Render), report workers (`python -m frontend_app.worker`) on
Dramatiq over a real redis-server, a real PostgreSQL, and two GPU tiers (vast_ai on uvicorn
in front of the fake Ollama). A browser-like client watches as dashboard.js does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import socketio
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ert_run import Tier, free_port, start_gpu_tier, wait_healthy
from frontend_app.jobs.log import JobRow
from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.frontend_app.conftest import API_KEY, BASE_ENV
from tests.frontend_app.llm.test_gpu_tiers import tiers_env
from tests.postgres import new_database

EVENTS = ("progress", "token", "section", "completed", "failed")
# Seconds to wait for something that takes a report's time on a loaded machine.
PATIENCE = 180.0


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    instance: str = ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"report worker (worker-\w+) ready", self.log.read_text())
            if found:
                self.instance = found.group(1)
                return
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start: {self.log.read_text()}")


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Any]:
    """`start_worker(**env)`: `python -m frontend_app.worker`, BASE_ENV plus `env`, ready."""
    started: list[Worker] = []

    def start(wait: bool = True, **env: str) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "frontend_app.worker"],
            env={**os.environ, **BASE_ENV, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        worker = Worker(process, log)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        assert API_KEY not in worker.log.read_text(errors="replace")


class Watcher:
    """Watches one job as dashboard.js does: events apply in `seq` order; replayed ones
    follow any earlier seq, a live one only the last; a live event after a hole is held, and
    a hole still open a second later is filled by watching the job again from the start."""

    def __init__(self, url: str) -> None:
        self.client = socketio.Client()
        self.applied: list[tuple[str, dict[str, Any]]] = []
        self.ended = threading.Event()
        self.refills = 0
        self._lock = threading.RLock()
        self._job_id = ""
        self._last_seq = 0
        self._held: dict[int, tuple[str, dict[str, Any]]] = {}
        self._hole: threading.Timer | None = None
        for name in EVENTS:
            self.client.on(name, lambda data, name=name: self._deliver(name, data))
        self.client.connect(url, transports=["websocket"])

    def generate(self, ticker: str) -> str:
        answer = self.client.call("generate", {"ticker": ticker}, timeout=30)
        assert "job_id" in answer, answer
        self.watch(answer["job_id"])
        return str(answer["job_id"])

    def watch(self, job_id: str) -> None:
        with self._lock:
            self._job_id, self._last_seq, self._held = job_id, 0, {}
            self.applied = []
            self.ended.clear()
        answer = self.client.call("subscribe", {"job_id": job_id}, timeout=30)
        assert "error" not in answer, answer

    def text(self, section: str) -> str:
        with self._lock:
            return "".join(
                d["text"] for n, d in self.applied if n == "token" and d["section"] == section
            )

    def messages(self) -> list[str]:
        with self._lock:
            return [d["message"] for n, d in self.applied if n == "progress"]

    def close(self) -> None:
        if self._hole is not None:
            self._hole.cancel()
        self.client.disconnect()

    def _deliver(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            if data.get("job_id") != self._job_id or data["seq"] <= self._last_seq:
                return
            if not data.get("replay") and data["seq"] > self._last_seq + 1:
                self._held[data["seq"]] = (name, data)
                if self._hole is None:
                    self._hole = threading.Timer(1.0, self._refill)
                    self._hole.start()
                return
            self._apply(name, data)
            while (held := self._held.pop(self._last_seq + 1, None)) is not None:
                self._apply(*held)
            self._held = {seq: e for seq, e in self._held.items() if seq > self._last_seq}

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        self._last_seq = data["seq"]
        self.applied.append((name, data))
        if name in ("completed", "failed"):
            self.ended.set()

    def _refill(self) -> None:
        with self._lock:
            self._hole = None
            if not self._held or self.ended.is_set():
                return
            self.refills += 1
        self.watch(self._job_id)


def wait_for(condition: Any, what: str, watcher: Watcher) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"waited for {what}: {watcher.messages()[-4:]}"
        time.sleep(0.1)


def written_by(instance: Tier, completed: dict[str, Any]) -> str:
    """Which integration wrote the report of a `completed` event, as instance says."""
    report = httpx.get(f"{instance.url}/api/reports/{completed['report_id']}", timeout=30)
    assert report.status_code == 200
    return str(report.json()["integration"])


def holder(database_url: str, job_id: str) -> str | None:
    """The instance that holds the job, as the database says."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(JobRow.instance).where(JobRow.id == job_id))
    finally:
        engine.dispose()


@pytest.fixture
def start_tier(ollama: FakeOllama, tmp_path: Path) -> Iterator[Any]:
    """`start_tier(slots)`: a GPU tier process (uvicorn, vast_ai) in front of the fake Ollama,
    that can be killed; stopped after the test."""
    started: list[Tier] = []

    def start(slots: int) -> Tier:
        env = {
            **os.environ,
            "ERT_API_KEY": API_KEY,
            "ERT_ENGINE": "ollama",
            "OLLAMA_HOST": ollama.url,
            "ERT_MAX_CONCURRENCY": str(slots),
            "ERT_GENERATION_TIMEOUT": "300",  # one slot writes six sections one by one
        }
        log = tmp_path / f"tier-{len(started)}.log"
        started.append(start_gpu_tier(env, port=free_port(), log=log))
        wait_healthy(started[-1], timeout=60)
        return started[-1]

    yield start
    for tier in started:
        tier.stop()


@pytest.fixture
def scaled(
    start_gunicorn, start_worker, start_tier, redis_url, postgres, ollama: FakeOllama
) -> dict[str, Any]:
    """Two GPU tiers (2 slots and 1), a PostgreSQL database, two dashboard instances and two
    report workers of one report each, all on one Redis. Each section streams 150 words
    over about 6 s, so a report can be acted on while it is written."""
    slow = Reply(text=" ".join(f"Word{n}" for n in range(150)), chunk_delay=0.04)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    big, small = start_tier(2), start_tier(1)
    database = new_database(postgres).replace("postgresql://", "postgresql+psycopg://")
    env = {
        **tiers_env(big.url, small.url),
        "REDIS_URL": redis_url,
        "DATABASE_URL": database,
        "ERT_REPORT_WORKERS": "true",
        "ERT_MAX_CONCURRENT_REPORTS": "1",
    }
    instances = [start_gunicorn(**env), start_gunicorn(**env)]
    workers = [start_worker(**env), start_worker(**env)]
    return {"instances": instances, "workers": workers, "tiers": (big, small), "db": database}


def test_reports_written_by_workers_survive_a_moved_browser_a_dead_tier_and_a_dead_worker(
    scaled: dict[str, Any],
) -> None:
    instance_a, instance_b = scaled["instances"]
    big, small = scaled["tiers"]

    # 1. Started on instance A, watched whole from instance B.
    on_a = Watcher(instance_a.url)
    job_id = on_a.generate("AAPL")
    wait_for(lambda: on_a.text("company_overview") or on_a.text("risks"), "text on A", on_a)
    on_a.close()
    on_b = Watcher(instance_b.url)
    try:
        on_b.watch(job_id)
        assert not on_b.ended.is_set()  # the browser came back while the worker still writes
        assert on_b.ended.wait(PATIENCE), on_b.messages()[-3:]
    finally:
        on_b.close()
    name, done = on_b.applied[-1]
    assert name == "completed", on_b.applied[-1]
    assert on_b.applied[0][0] == "progress"
    assert "Waiting for a report worker" in on_b.applied[0][1]["message"]  # from the start
    seqs = [data["seq"] for _, data in on_b.applied]
    assert seqs == sorted(set(seqs)), "events repeated or out of order"
    risks = on_b.text("risks")
    assert risks.startswith("Word0 Word1") and "Word149" in risks, risks[-200:]
    assert risks.count("Word75 ") == 1  # nothing doubled by a replay laid over live text
    assert written_by(instance_b, done) == "remote"

    # 2. The GPU tier writing a report is killed: that report and the next go to the other.
    watcher = Watcher(instance_b.url)
    try:
        watcher.generate("CRM")
        wait_for(lambda: watcher.text("risks"), "CRM's text", watcher)
        big.process.send_signal(signal.SIGKILL)  # the tier with the most free slots
        big.process.wait()
        assert watcher.ended.wait(PATIENCE), watcher.messages()[-3:]
        assert watcher.applied[-1][0] == "completed", watcher.messages()[-3:]
        switch = f"GPU tier 1 ({big.url})"
        assert any(
            m.startswith(switch) and f"Trying GPU tier 2 ({small.url})" in m
            for m in watcher.messages()
        ), watcher.messages()
        assert written_by(instance_b, watcher.applied[-1][1]) == "remote", "\n".join(
            watcher.messages()
        )
        watcher.generate("ABBV")
        assert watcher.ended.wait(PATIENCE), watcher.messages()[-3:]
        assert watcher.applied[-1][0] == "completed", watcher.messages()[-3:]
        assert written_by(instance_b, watcher.applied[-1][1]) == "remote"  # by tier 2 alone

        # 3. A worker is killed mid-report: the other one writes the report again.
        job_id = watcher.generate("SPOT")
        wait_for(lambda: watcher.text("risks"), "SPOT's text", watcher)
        running_on = holder(scaled["db"], job_id)
        victim = next(w for w in scaled["workers"] if w.instance == running_on)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        assert watcher.ended.wait(PATIENCE), watcher.messages()[-3:]
    finally:
        watcher.close()
    assert watcher.applied[-1][0] == "completed", watcher.messages()[-3:]
    assert any(
        m.startswith("Restarted after its report worker stopped") for m in watcher.messages()
    ), "\n".join(watcher.messages())
    survivor = next(w for w in scaled["workers"] if w is not victim)
    assert holder(scaled["db"], job_id) == survivor.instance


@pytest.fixture
def on_workers(redis_url: str, remote_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The settings of a dashboard and its report workers: one Redis, one SQLite file."""
    return {
        **remote_env,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "ERT_REPORT_WORKERS": "true",
    }


def job_state(http: Any, job_id: str) -> dict[str, Any]:
    answer = http.get(f"/api/jobs/{job_id}")
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def wait_state(http: Any, job_id: str, condition: Any) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE
    while not condition(job := job_state(http, job_id)):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_a_cancel_asked_on_an_instance_reaches_the_worker(
    make_app, start_worker, on_workers, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: (
        default_responder(body)
        if body.get("format")
        else Reply(text="word " * 500, chunk_delay=0.1)
    )
    start_worker(**on_workers)
    http = make_app(**on_workers).test_client()
    job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    wait_state(http, job_id, lambda job: job["stage"] == "generating")

    assert http.delete(f"/api/jobs/{job_id}").status_code == 202
    job = wait_state(http, job_id, lambda job: job["state"] != "running")
    assert job["state"] == "cancelled", job
    assert http.delete(f"/api/jobs/{job_id}").status_code == 409  # it has ended


def test_a_waiting_job_is_cancelled_at_once_and_a_worker_leaves_it_alone(
    make_app, start_worker, on_workers
) -> None:
    http = make_app(**on_workers).test_client()
    job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    job = job_state(http, job_id)
    assert (job["state"], job["queue_position"]) == ("queued", 1)  # no worker runs yet

    assert http.delete(f"/api/jobs/{job_id}").status_code == 202
    cancelled = job_state(http, job_id)
    assert cancelled["state"] == "cancelled"
    assert cancelled["error"]["message"] == "Cancelled before it started"

    start_worker(**on_workers)  # takes the job's message off the queue, and drops it
    later = http.post("/api/reports", json={"ticker": "CRM"}).json["job_id"]
    wait_state(http, later, lambda job: job["state"] == "completed")
    assert job_state(http, job_id) == {**cancelled, "elapsed": job_state(http, job_id)["elapsed"]}


def test_a_stopping_worker_hands_its_report_to_another(
    make_app, start_worker, on_workers, ollama: FakeOllama
) -> None:
    """SIGTERM with no grace left: the report goes back on the queue at once, and the other
    worker writes it again from the start."""
    ollama.responder = lambda body: (
        default_responder(body) if body.get("format") else Reply(text="word " * 60, chunk_delay=0.1)
    )
    env = {**on_workers, "ERT_SHUTDOWN_GRACE": "0"}
    first = start_worker(**env)
    http = make_app(**env).test_client()
    job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    wait_state(http, job_id, lambda job: job["stage"] == "generating")
    second = start_worker(**env)

    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(60) == 0
    job = wait_state(http, job_id, lambda job: job["state"] not in ("queued", "running"))
    assert job["state"] == "completed", job
    assert holder(env["DATABASE_URL"], job_id) == second.instance
    assert job_state(http, job_id)["error"] is None


def test_jobs_waiting_when_redis_lost_its_data_are_put_on_the_queue_again(
    make_app, start_worker, on_workers, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    http = make_app(**on_workers).test_client()
    job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    assert job_state(http, job_id)["state"] == "queued"  # no worker runs yet
    # What a Redis restarted without persistence holds: nothing, the job's message neither.
    redis.Redis.from_url(redis_url).flushall()

    worker = start_worker(**on_workers)
    job = wait_state(http, job_id, lambda job: job["state"] not in ("queued", "running"))
    assert job["state"] == "completed", job
    # Put back by the web instance or by the worker, whichever looked first.
    said = caplog.text + worker.log.read_text()
    assert "1 unfinished report jobs are on it again" in said, said


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "ERT_REPORT_WORKERS"),
        ({"ERT_REPORT_WORKERS": "true"}, "ERT_REPORT_WORKERS needs REDIS_URL"),
        ({"ERT_REPORT_WORKERS": "true", "REDIS_URL": "redis://127.0.0.1:9/0"}, "REDIS_URL: Redis"),
    ],
)
def test_a_worker_that_cannot_start_says_which_setting(start_worker, env, named) -> None:
    worker = start_worker(wait=False, **env)
    assert worker.process.wait(60) == 2
    said = worker.log.read_text()
    assert named in said and "Traceback" not in said, said


def test_the_jobs_waiting_for_a_worker_are_told_their_place_as_the_queue_moves(
    make_app, start_worker, on_workers, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: (
        default_responder(body) if body.get("format") else Reply(text="word " * 20, chunk_delay=0.1)
    )
    app = make_app(**on_workers, ERT_MAX_WAITING_PER_USER="3")
    http = app.test_client()
    ids = [
        http.post("/api/reports", json={"ticker": t}).json["job_id"]
        for t in ("AAPL", "CRM", "ABBV")
    ]
    assert [job_state(http, job_id)["queue_position"] for job_id in ids] == [1, 2, 3]

    start_worker(**{**on_workers, "ERT_MAX_CONCURRENT_REPORTS": "1"})
    wait_state(http, ids[2], lambda job: job["state"] == "completed")
    places = [
        event.payload.get("queue_position")
        for event in app.extensions["ert"].jobs.get(ids[2]).replay()
        if event.name == "progress" and event.payload["stage"] == "queued"
    ]
    assert places == [3, 2, 1], places  # told as each job before it started
    seqs = [event.seq for event in app.extensions["ert"].jobs.get(ids[2]).replay()]
    assert seqs == sorted(set(seqs))
