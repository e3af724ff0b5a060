"""The job log in the database (jobs/log.py) under the JobManager, on SQLite and PostgreSQL:
a job outlives its process (replayed whole by the next one), is taken over when its
process let it go or died, ends `interrupted` the second time, and is pruned once old."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from frontend_app import migrations
from frontend_app.errors import TryLater
from frontend_app.jobs import JobManager, JobReporter, JobSpec
from frontend_app.jobs.log import JobLog
from frontend_app.llm.base import GenerationCancelled
from frontend_app.market import validate_ticker
from tests.frontend_app.jobs.test_manager import Recorder, spec, start_thread, wait_until


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


def streaming_runner(gate: threading.Event) -> Callable[[JobReporter], None]:
    """Writes two sections' text, waits for `gate` (or a cancel), then completes."""

    def run(reporter: JobReporter) -> None:
        reporter.progress("generating", 50, "writing")
        for word in ("Rates ", "rise ", "and ", "fall."):
            reporter.token("risks", word)
            time.sleep(0.02)
        reporter.section({"id": "risks", "markdown": "Rates rise and fall."})
        reporter.token("valuation", "Cheap.")
        while not gate.wait(0.01):
            if reporter.cancelled:
                reporter.failed(GenerationCancelled())
                return
        reporter.completed("r-1", "/reports/r-1")

    return run


def process(engine: Engine, run: Callable[[JobReporter], None], **kwargs: Any) -> JobManager:
    """One dashboard process's JobManager on the shared database."""
    manager = JobManager(
        emit=Recorder(),
        start_task=start_thread,
        sleep=time.sleep,
        run=run,
        limit=2,
        token_interval=0.01,
        log=JobLog(engine),
        **kwargs,
    )
    return manager


def replayed(manager: JobManager, job_id: str) -> list[tuple[str, Any]]:
    job = manager.get(job_id)
    assert job is not None
    return [(e.name, e.payload.get("text") or e.payload.get("stage")) for e in job.replay()]


def test_a_finished_job_is_replayed_whole_by_the_next_process(engine: Engine) -> None:
    gate = threading.Event()
    gate.set()
    first = process(engine, streaming_runner(gate))
    job = first.submit(spec("AAPL"))
    wait_until(lambda: (j := JobLog(engine).load(job.id)) is not None and j.finished)
    before = [(e.seq, e.name, e.payload) for e in job.replay()]

    later = process(engine, streaming_runner(gate))
    again = later.get(job.id)
    assert again is not None and again is not job
    assert [(e.seq, e.name, e.payload) for e in again.replay()] == before
    assert again.to_dict() | {"elapsed": 0} == job.to_dict() | {"elapsed": 0}
    assert again.elapsed == pytest.approx(job.elapsed, abs=0.05)
    assert later.get("0" * 32) is None


def test_a_running_job_let_go_at_shutdown_is_written_again_by_the_next_process(
    engine: Engine,
) -> None:
    gate = threading.Event()
    first = process(engine, streaming_runner(gate))
    job = first.submit(JobSpec(validate_ticker("AAPL"), model="m:1b", peers=("MSFT", "IBM")))
    wait_until(lambda: job.events and job.events[-1].payload.get("text") == "Cheap.")
    first.close(grace=0.2)  # SIGTERM: the job does not finish within the grace period
    assert job.released
    with pytest.raises(TryLater, match="restarting"):
        first.submit(spec("MSFT"))

    gate.set()
    later = process(engine, streaming_runner(gate))
    later.start_keeping()
    wait_until(lambda: (j := later.get(job.id)) is not None and j.state == "completed", 10)
    log = replayed(later, job.id)
    restart = log.index(("progress", "queued"))
    # What streamed before the restart is kept, then the page is told to start afresh.
    assert ("token", "Rates rise and fall.") in log[:restart]
    assert ("token", "Rates rise and fall.") in log[restart:]
    assert log[-1] == ("completed", None)
    resumed = later.get(job.id)
    assert resumed is not None and resumed.spec == job.spec  # written from the same inputs
    notice = resumed.events[[e.name for e in resumed.events].index("progress", 1) + 0]
    assert any(
        e.payload.get("reset") and "Restarted after a server restart" in e.payload["message"]
        for e in resumed.events
    ), notice
    seqs = [e.seq for e in resumed.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    later.release()


def test_a_job_whose_process_died_twice_ends_interrupted(engine: Engine) -> None:
    gate = threading.Event()
    first = process(engine, streaming_runner(gate))
    job = first.submit(spec("AAPL"))
    wait_until(lambda: job.state == "running")
    first.release()  # as if killed: the next process takes it up again (once)
    second = process(engine, streaming_runner(gate))
    second.start_keeping()
    wait_until(lambda: (j := second.get(job.id)) is not None and j.restarts == 1, 10)
    second.release()
    third = process(engine, streaming_runner(gate))
    third.start_keeping()
    wait_until(lambda: (j := third.get(job.id)) is not None and j.state == "interrupted", 10)
    ended = third.get(job.id)
    assert ended is not None and ended.error is not None
    assert ended.error["code"] == "interrupted"
    assert "Retry" in ended.error["message"]
    third.release()


def test_only_jobs_of_a_silent_process_are_taken_over(engine: Engine) -> None:
    gate = threading.Event()
    alive = process(engine, streaming_runner(gate))
    job = alive.submit(spec("AAPL"))
    other = JobLog(engine)
    assert other.adopt(lease=60) == []  # its process beats: not an orphan
    time.sleep(0.05)
    taken = other.adopt(lease=0.01)  # its process has been silent longer than the lease
    assert [j.id for j in taken] == [job.id]
    assert other.adopt(lease=0.01) == []  # taken once only
    alive.release()


def test_finished_jobs_are_pruned_after_the_retention_time(engine: Engine) -> None:
    gate = threading.Event()
    gate.set()
    manager = process(engine, streaming_runner(gate))
    old = manager.submit(spec("AAPL"))
    log = JobLog(engine)
    wait_until(lambda: (j := log.load(old.id)) is not None and j.finished)
    assert log.prune(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert log.prune(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert log.load(old.id) is None


def test_an_interrupted_job_is_retried_over_http_and_socketio(
    make_app: Callable[..., Any],
) -> None:
    app = make_app()
    jobs: JobManager = app.extensions["ert"].jobs
    job = jobs.submit(spec("AAPL"))
    # Ended, and its task done with it (its safety net would fail a job set running again).
    wait_until(lambda: job.finished and jobs.counts()["active"] == 0, 30)
    job.state = "running"  # as if it were still running: no retry yet
    http = app.test_client()
    assert http.post(f"/api/jobs/{job.id}/retry").status_code == 409
    job.state = "interrupted"
    answer = http.post(f"/api/jobs/{job.id}/retry")
    assert answer.status_code == 202
    new = jobs.get(answer.get_json()["job_id"])
    assert new is not None and new.id != job.id and new.spec.ticker == "AAPL"
    wait_until(lambda: new.state == "completed", 30)
    socket = app.extensions["socketio"].test_client(app)
    ack = socket.emit("retry", {"job_id": job.id}, callback=True)
    assert ack["job_id"] not in (job.id, new.id)
    assert socket.emit("retry", {"job_id": "nope"}, callback=True)["error"]["code"] == (
        "not_retryable"
    )
    assert http.post("/api/jobs/nope/retry").status_code == 404


def test_without_its_database_a_job_is_refused_clearly_and_nothing_is_kept(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'gone.sqlite3'}")  # never migrated: no tables
    gate = threading.Event()
    manager = process(engine, streaming_runner(gate))
    with pytest.raises(TryLater, match="cannot reach its database") as refused:
        manager.submit(spec("AAPL"))
    assert refused.value.code == "database_unavailable"
    assert manager.counts()["active"] == 0 and manager.counts()["waiting"] == 0
    engine.dispose()


def test_a_write_that_fails_is_written_by_the_next_flush(engine: Engine) -> None:
    log = JobLog(engine)
    gate = threading.Event()
    job = process(engine, streaming_runner(gate)).submit(spec("AAPL"))
    gate.set()
    wait_until(lambda: (j := log.load(job.id)) is not None and j.finished)
    with engine.begin() as connection:  # the database goes away for a moment
        connection.execute(text("ALTER TABLE job_events RENAME TO job_events_away"))
    log.record(job, 1000, "progress", {"job_id": job.id, "stage": "x", "seq": 1000})
    with pytest.raises(SQLAlchemyError):
        log.flush()
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE job_events_away RENAME TO job_events"))
    log.flush()
    loaded = log.load(job.id)
    assert loaded is not None and loaded.events[-1].seq == 1000


def test_on_sigterm_a_report_that_finishes_within_the_grace_period_completes(
    engine: Engine,
) -> None:
    gate = threading.Event()
    manager = process(engine, streaming_runner(gate), max_waiting=5)
    running = manager.submit(spec("AAPL"))
    waiting = [manager.submit(spec(t)) for t in ("MSFT", "IBM")]  # limit 2: IBM waits
    wait_until(lambda: running.state == "running" and waiting[0].state == "running")
    threading.Timer(0.3, gate.set).start()
    manager.close(grace=30)
    assert running.state == waiting[0].state == "completed"
    assert waiting[1].state == "queued" and waiting[1].released  # never started: handed over
    log = JobLog(engine)
    wait_until(lambda: (j := log.load(running.id)) is not None and j.state == "completed")
    assert [j.id for j in log.adopt(lease=60)] == [waiting[1].id]
