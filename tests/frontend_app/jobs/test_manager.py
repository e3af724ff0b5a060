"""JobManager on its own: event log and replay, bounded running with queue positions, cancel."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from frontend_app.errors import TryLater
from frontend_app.jobs import JobManager, JobReporter, JobSpec
from frontend_app.llm.base import GenerationCancelled
from frontend_app.market import validate_ticker


class Recorder:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, name: str, payload: dict[str, Any], *, to: str) -> None:
        self.emitted.append((name, payload, to))


def start_thread(func: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=func, args=args, daemon=True)
    thread.start()
    return thread


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def gated_runner(gates: dict[str, threading.Event]) -> Any:
    """A job body that streams two tokens, then waits for its gate (or a cancel)."""

    def run(reporter: JobReporter) -> None:
        reporter.progress("generating", 50, "writing")
        reporter.token("risks", "Rates ")
        reporter.token("risks", "rise.")
        gate = gates.setdefault(reporter.job.spec.ticker, threading.Event())
        while not gate.wait(0.01):
            if reporter.cancelled:
                reporter.failed(GenerationCancelled())
                return
        report_id = "r-" + reporter.job.spec.ticker
        reporter.completed(report_id, f"/reports/{report_id}")

    return run


def spec(ticker: str) -> JobSpec:
    return JobSpec(validate_ticker(ticker))


def test_events_are_numbered_sent_to_the_room_and_replayed_with_tokens_merged() -> None:
    emit = Recorder()

    def run(reporter: JobReporter) -> None:
        reporter.progress("generating", 50, "writing")
        reporter.token("risks", "Rates ")
        wait_until(lambda: len(emit.emitted) == 2)  # the flusher sent it
        reporter.token("risks", "rise.")
        wait_until(lambda: len(emit.emitted) == 3)
        reporter.completed("r-1", "/reports/r-1")

    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=run, limit=2, token_interval=0.01
    )
    job = manager.submit(spec("AAPL"))
    wait_until(lambda: job.state == "completed")

    assert [p["seq"] for _, p, _ in emit.emitted] == [1, 2, 3, 4, 5]
    assert [n for n, _, _ in emit.emitted] == [
        "progress",
        "token",
        "token",
        "progress",
        "completed",
    ]
    assert {room for _, _, room in emit.emitted} == {job.id}
    replay = job.replay()
    assert [e.name for e in replay] == ["progress", "token", "progress", "completed"]
    assert replay[1].payload["text"] == "Rates rise."
    # The merged token carries the seq of its last part, so live duplicates are dropped.
    assert replay[1].seq == 3
    assert replay[-1].payload == {
        "job_id": job.id,
        "seq": 5,
        "report_id": "r-1",
        "url": "/reports/r-1",
    }


def test_tokens_are_batched_but_never_overtake_other_events() -> None:
    emit = Recorder()

    def run(reporter: JobReporter) -> None:
        for word in ("a ", "b ", "c "):
            reporter.token("risks", word)
        reporter.token("valuation", "x ")
        reporter.section({"id": "valuation"})
        reporter.completed("r1", "/reports/r1")

    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=run, limit=1, token_interval=10
    )
    job = manager.submit(spec("A"))
    wait_until(lambda: job.finished)
    assert [(n, p.get("text")) for n, p, _ in emit.emitted] == [
        ("token", "a b c "),
        ("token", "x "),
        ("section", None),
        ("progress", None),
        ("completed", None),
    ]


def test_jobs_over_the_limit_wait_and_are_told_their_position() -> None:
    emit, gates = Recorder(), {}
    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=gated_runner(gates), limit=1
    )
    first, second, third = (manager.submit(spec(t)) for t in ("A", "B", "C"))
    wait_until(lambda: "A" in gates)

    assert (first.state, second.state, third.state) == ("running", "queued", "queued")
    assert manager.queue_position(second) == 1 and manager.queue_position(third) == 2
    assert third.events[-1].payload["queue_position"] == 2
    assert manager.counts() == {"active": 1, "waiting": 2, "limit": 1}

    gates["A"].set()
    wait_until(lambda: "B" in gates)
    assert second.state == "running"
    # Told once B has started (B's runner may get there first).
    wait_until(lambda: third.events[-1].payload.get("queue_position") == 1)
    assert "position 1" in third.events[-1].payload["message"]
    gates["B"].set()
    gates.setdefault("C", threading.Event()).set()
    wait_until(lambda: third.state == "completed")
    assert manager.counts()["active"] == 0


def test_cancel_stops_a_running_job_and_removes_a_waiting_one() -> None:
    emit, gates = Recorder(), {}
    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=gated_runner(gates), limit=1
    )
    running, waiting = manager.submit(spec("A")), manager.submit(spec("B"))
    wait_until(lambda: "A" in gates)

    assert manager.cancel(waiting.id) is True
    assert waiting.state == "cancelled" and manager.queue_position(waiting) is None
    assert manager.cancel(running.id) is True
    wait_until(lambda: running.state == "cancelled")
    assert running.events[-1].name == "failed"
    assert running.events[-1].payload["code"] == "cancelled"
    assert manager.cancel(running.id) is False  # already ended
    assert manager.cancel("no-such-job") is False


def test_a_jobs_elapsed_time_stops_when_it_ends() -> None:
    gates = {"A": threading.Event()}
    manager = JobManager(
        emit=Recorder(), start_task=start_thread, sleep=time.sleep, run=gated_runner(gates), limit=1
    )
    done, waiting = manager.submit(spec("A")), manager.submit(spec("B"))
    time.sleep(0.05)
    manager.cancel(waiting.id)
    gates["A"].set()
    wait_until(lambda: done.finished)
    ended = (done.elapsed, waiting.elapsed)
    assert ended[0] >= 0.05
    time.sleep(0.1)
    assert (done.elapsed, waiting.elapsed) == ended
    assert done.to_dict()["elapsed"] == ended[0]


def test_a_runner_that_forgets_to_end_its_job_still_ends_it() -> None:
    emit = Recorder()
    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=lambda reporter: None, limit=1
    )
    job = manager.submit(spec("A"))
    wait_until(lambda: job.finished)
    assert job.state == "failed"
    assert job.events[-1].payload["code"] == "internal_error"


def test_a_replay_holds_only_text_already_sent_live() -> None:
    emit, sent_first = Recorder(), threading.Event()
    release = threading.Event()

    def run(reporter: JobReporter) -> None:
        reporter.token("risks", "Rates ")
        sent_first.set()
        release.wait(5)
        reporter.progress("generating", 50, "writing")  # sends the text first
        reporter.completed("r-1", "/reports/r-1")

    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=run, limit=1, token_interval=10
    )
    job = manager.submit(spec("A"))
    sent_first.wait(5)
    # Not sent live yet: a browser subscribing now gets it live, after the replay.
    assert [e.name for e in job.replay()] == []
    release.set()
    wait_until(lambda: job.finished)
    replay = job.replay()
    names = [(e.name, e.seq) for e in replay]
    assert names == [("token", 1), ("progress", 2), ("progress", 3), ("completed", 4)]
    assert replay[0].payload["text"] == "Rates "


def owned(ticker: str, owner: str) -> JobSpec:
    return JobSpec(validate_ticker(ticker), owner=owner)


def gated_manager(gates: dict[str, threading.Event], **admission: Any) -> JobManager:
    """A manager whose jobs wait for their gate; `admission`: limit and its bounds."""
    return JobManager(
        emit=Recorder(),
        start_task=start_thread,
        sleep=time.sleep,
        run=gated_runner(gates),
        **admission,
    )


def test_admission_caps_each_owners_waiting_jobs_and_bounds_the_queue() -> None:
    gates: dict[str, threading.Event] = {}
    manager = gated_manager(gates, limit=1, max_waiting=2, max_waiting_per_owner=1)
    running = manager.submit(owned("AAPL", "account:1"))
    manager.submit(owned("MSFT", "account:1"))
    with pytest.raises(TryLater) as mine:
        manager.submit(owned("NVDA", "account:1"))
    assert (
        mine.value.code == "too_many_waiting"
        and "You already have 1 report waiting: try again in" in mine.value.message
    )
    other = manager.submit(owned("IBM", "account:2"))
    assert manager.queue_position(other) == 2  # behind one, not behind a burst
    with pytest.raises(TryLater) as full:
        manager.submit(owned("ORCL", "account:3"))
    assert full.value.code == "busy" and full.value.retryable
    assert re.search(
        r"ERT is busy \(2 reports waiting\): try again in \d+ minutes?", str(full.value)
    )
    assert full.value.fields()["retry_after"] >= 1
    assert manager.counts() == {"active": 1, "waiting": 2, "limit": 1}  # nothing was queued
    for gate in ("AAPL", "MSFT", "IBM"):
        gates.setdefault(gate, threading.Event()).set()
    wait_until(lambda: running.finished and other.finished)


def test_never_more_running_than_the_gpu_tier_holds() -> None:
    gates: dict[str, threading.Event] = {}
    gpu = {"slots": 1}
    manager = gated_manager(gates, limit=4, gpu_slots=lambda: gpu["slots"])
    first, second, third = (manager.submit(spec(t)) for t in ("AAPL", "MSFT", "NVDA"))
    wait_until(lambda: first.state == "running")
    assert (second.state, third.state) == ("queued", "queued")
    gpu["slots"] = 2  # the GPU tier now runs two at once: both start when a slot frees
    gates.setdefault("AAPL", threading.Event()).set()
    wait_until(lambda: second.state == "running" and third.state == "running")
    for gate in ("MSFT", "NVDA"):
        gates.setdefault(gate, threading.Event()).set()
    wait_until(lambda: second.finished and third.finished)


def test_sections_streaming_at_once_are_merged_per_section() -> None:
    """Four model slots write four sections at once: their tokens take turns, and each
    window sends one event per section, never one per token (issue 13)."""
    emit = Recorder()
    sections = ("risks", "valuation", "business_overview", "financial_analysis")

    def run(reporter: JobReporter) -> None:
        for word in ("a ", "b ", "c "):
            for section in sections:
                reporter.token(section, section[0] + word)
        reporter.section({"id": "risks"})
        for section in sections[1:]:
            reporter.token(section, "end")
        reporter.completed("r1", "/reports/r1")

    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=run, limit=1, token_interval=10
    )
    job = manager.submit(spec("A"))
    wait_until(lambda: job.finished)
    tokens = [(p["section"], p["text"]) for n, p, _ in emit.emitted if n == "token"]
    assert tokens[:4] == [(s, f"{s[0]}a {s[0]}b {s[0]}c ") for s in sections]
    assert tokens[4:] == [(s, "end") for s in sections[1:]]
    replay = job.replay()
    assert [e.seq for e in replay] == sorted(e.seq for e in replay)
    assert [e.name for e in replay][:5] == ["token"] * 4 + ["section"]
    # Replayed text is what was sent, each section whole in order.
    for section in sections:
        text = "".join(e.payload["text"] for e in replay if e.payload.get("section") == section)
        sent = "".join(t for s, t in tokens if s == section)
        assert text == sent


def test_a_late_subscriber_gets_each_sections_text_as_one_growing_event() -> None:
    emit = Recorder()
    gate, written = threading.Event(), threading.Event()

    def run(reporter: JobReporter) -> None:
        for i in range(6):
            reporter.token("risks" if i % 2 else "valuation", f"{i} ")
            time.sleep(0.02)
        written.set()
        gate.wait(5)
        reporter.completed("r1", "/reports/r1")

    manager = JobManager(
        emit=emit, start_task=start_thread, sleep=time.sleep, run=run, limit=1, token_interval=0.01
    )
    job = manager.submit(spec("A"))
    wait_until(written.is_set)
    wait_until(lambda: not job.unsent)
    replay = job.replay()
    assert sorted((e.payload["section"], e.payload["text"]) for e in replay) == [
        ("risks", "1 3 5 "),
        ("valuation", "0 2 4 "),
    ]
    assert max(e.seq for e in replay) == job.last_seq
    gate.set()
    wait_until(lambda: job.finished)
