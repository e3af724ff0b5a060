"""Report jobs: owned by the server, not by the socket that started them.

Every event a job sends is appended to its log with a sequence number and sent to
the job's Socket.IO room (named after the job id). A browser that subscribes late
gets the log replayed, then the live events; it drops any event whose `seq` it has
already seen, so a subscribe racing with a live event neither loses nor doubles it.

Tokens are not sent one by one: each job buffers them and one flusher task sends
what has gathered every `token_interval` seconds (one event per section run). A
hundred reports at 100 tokens/s then cost the worker 2,000 sends a second instead
of 10,000, for at most `token_interval` of extra delay. Any other event of the job
flushes its buffer first, so the order of the log is the order things happened.

At most `limit` jobs run at once; the others wait in a FIFO queue and are told
their position whenever it changes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

JobState = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

Emit = Callable[[str, dict[str, Any], str], None]
StartTask = Callable[..., Any]
Sleep = Callable[[float], Any]


@dataclass(frozen=True)
class JobSpec:
    """What to write: a ticker (fresh data) or a stored report to write again."""

    ticker: str
    model: str | None = None
    regenerate_from: str | None = None


@dataclass
class JobEvent:
    seq: int
    name: str
    payload: dict[str, Any]


@dataclass(eq=False)
class Job:
    spec: JobSpec
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: JobState = "queued"
    created_at: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    events: list[JobEvent] = field(default_factory=list)
    report_id: str | None = None
    cancel_requested: bool = False
    stage: str = "queued"
    percent: float = 0.0
    # Tokens not sent yet, as [section, text] runs; guarded by `lock`, which also keeps
    # numbering, logging and sending of this job's events in one order.
    pending_tokens: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def elapsed(self) -> float:
        return round(time.monotonic() - self.started_monotonic, 2)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def error(self) -> dict[str, Any] | None:
        """What the `failed` event said (code, message, suggestions...), if the job failed."""
        for event in reversed(self.events):
            if event.name == "failed":
                return {k: v for k, v in event.payload.items() if k not in ("job_id", "seq")}
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "ticker": self.spec.ticker,
            "model": self.spec.model,
            "state": self.state,
            "stage": self.stage,
            "percent": self.percent,
            "elapsed": self.elapsed,
            "report_id": self.report_id,
            "url": f"/reports/{self.report_id}" if self.report_id else None,
            "events": len(self.events),
            "error": self.error,
        }


class JobReporter:
    """What a running job uses to tell its subscribers how it is going."""

    def __init__(self, manager: JobManager, job: Job) -> None:
        self._manager = manager
        self.job = job

    @property
    def cancelled(self) -> bool:
        return self.job.cancel_requested

    def progress(self, stage: str, percent: float, message: str, **extra: Any) -> None:
        self.job.stage = stage
        self.job.percent = round(percent, 1)
        self._manager.publish(
            self.job,
            "progress",
            {"stage": stage, "percent": self.job.percent, "message": message, **extra},
        )

    def token(self, section: str, text: str) -> None:
        self._manager.add_token(self.job, section, text)

    def section(self, section: dict[str, Any]) -> None:
        self._manager.publish(self.job, "section", {"section": section})

    def completed(self, report_id: str) -> None:
        self.job.report_id = report_id
        self.progress("completed", 100, "Report ready")
        self._manager.publish(
            self.job, "completed", {"report_id": report_id, "url": f"/reports/{report_id}"}
        )
        self.job.state = "completed"

    def failed(self, code: str, message: str, **extra: Any) -> None:
        stage = "cancelled" if code == "cancelled" else "failed"
        self.progress(stage, self.job.percent, message)
        self._manager.publish(self.job, "failed", {"code": code, "message": message, **extra})
        self.job.state = "cancelled" if code == "cancelled" else "failed"


class JobManager:
    def __init__(
        self,
        *,
        emit: Emit,
        start_task: StartTask,
        sleep: Sleep,
        run: Callable[[JobReporter], None],
        limit: int,
        token_interval: float = 0.05,
        keep_finished: int = 200,
    ) -> None:
        self._emit = emit
        self._start_task = start_task
        self._sleep = sleep
        self._run = run
        self.limit = limit
        self._token_interval = token_interval
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: set[str] = set()
        self._waiting: deque[Job] = deque()
        self._buffering: set[Job] = set()
        self._flusher_running = False

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def submit(self, spec: JobSpec) -> Job:
        job = Job(spec=spec)
        with self._lock:
            self._prune()
            self._jobs[job.id] = job
            start_now = len(self._running) < self.limit
            if start_now:
                self._running.add(job.id)
            else:
                self._waiting.append(job)
                position = len(self._waiting)
        if start_now:
            self._start(job)
        else:
            self._announce_position(job, position)
        return job

    def publish(self, job: Job, name: str, payload: dict[str, Any]) -> None:
        """Number, log and send one event (after the job's buffered tokens)."""
        with job.lock:
            self._send_pending(job)
            self._send(job, name, payload)

    def add_token(self, job: Job, section: str, text: str) -> None:
        with job.lock:
            if job.pending_tokens and job.pending_tokens[-1][0] == section:
                job.pending_tokens[-1][1] += text
            else:
                job.pending_tokens.append([section, text])
        with self._lock:
            self._buffering.add(job)
            start_flusher = not self._flusher_running
            self._flusher_running = True
        if start_flusher:
            self._start_task(self._flush_tokens)

    def _flush_tokens(self) -> None:
        """The one flusher task: sends buffered tokens every `token_interval`; ends when idle."""
        while True:
            self._sleep(self._token_interval)
            with self._lock:
                jobs, self._buffering = self._buffering, set()
                if not jobs:
                    self._flusher_running = False
                    return
            busy = set()
            for job in jobs:
                # A job that is sending an event itself is skipped (it flushes its own
                # tokens first), so one busy job never holds up the others.
                if job.lock.acquire(blocking=False):
                    try:
                        self._send_pending(job)
                    finally:
                        job.lock.release()
                else:
                    busy.add(job)
            if busy:
                with self._lock:
                    self._buffering |= busy

    def _send_pending(self, job: Job) -> None:
        """Send the job's buffered tokens; the caller holds `job.lock`."""
        pending, job.pending_tokens = job.pending_tokens, []
        for section, text in pending:
            self._send(job, "token", {"section": section, "text": text})

    def _send(self, job: Job, name: str, payload: dict[str, Any]) -> None:
        event = JobEvent(len(job.events) + 1, name, {"job_id": job.id, **payload})
        event.payload["seq"] = event.seq
        if name == "progress":
            event.payload.setdefault("elapsed", job.elapsed)
        job.events.append(event)
        self._emit(name, event.payload, job.id)

    def replay(self, job: Job) -> list[JobEvent]:
        """The job's log so far, with runs of tokens for one section merged into one."""
        with job.lock:
            events = list(job.events)
        merged: list[JobEvent] = []
        for event in events:
            last = merged[-1] if merged else None
            if (
                event.name == "token"
                and last is not None
                and last.name == "token"
                and last.payload["section"] == event.payload["section"]
            ):
                text = last.payload["text"] + event.payload["text"]
                merged[-1] = JobEvent(event.seq, "token", {**event.payload, "text": text})
            else:
                merged.append(event)
        return merged

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop; False if there is no such job or it already ended."""
        job = self._jobs.get(job_id)
        if job is None or job.finished:
            return False
        job.cancel_requested = True
        with self._lock:
            was_waiting = job in self._waiting
            if was_waiting:
                self._waiting.remove(job)
                waiting = list(self._waiting)
        if was_waiting:
            JobReporter(self, job).failed("cancelled", "Cancelled before it started")
            self._announce_positions(waiting)
        return True

    def queue_position(self, job: Job) -> int | None:
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "active": len(self._running),
                "waiting": len(self._waiting),
                "limit": self.limit,
            }

    def _start(self, job: Job) -> None:
        job.state = "running"
        self._start_task(self._run_job, job)

    def _run_job(self, job: Job) -> None:
        reporter = JobReporter(self, job)
        try:
            self._run(reporter)
        finally:
            if not job.finished:  # the runner must end every job; this is the safety net
                reporter.failed("internal_error", "The report could not be finished")
            with self._lock:
                self._running.discard(job.id)
                next_job = self._waiting.popleft() if self._waiting else None
                if next_job is not None:
                    self._running.add(next_job.id)
                waiting = list(self._waiting)
            if next_job is not None:
                self._start(next_job)
                self._announce_positions(waiting)

    def _announce_positions(self, waiting: list[Job]) -> None:
        for position, job in enumerate(waiting, start=1):
            self._announce_position(job, position)

    def _announce_position(self, job: Job, position: int) -> None:
        JobReporter(self, job).progress(
            "queued",
            0,
            f"Waiting for a free slot: position {position} in the queue",
            queue_position=position,
        )

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[job.id]
