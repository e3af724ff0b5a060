"""A report job: what to write, where it stands, and its events, numbered, logged for
replay and emitted to the job's room.

Every event a job sends gets the next `seq`, goes into the job's log and is emitted
to the job's Socket.IO room (named after the job id). A browser that subscribes late
gets the log replayed (`Job.replay`), then the live events; it drops any event whose
`seq` it has already seen, so a subscribe racing with a live event neither loses
nor doubles it.

Tokens are merged per section, as sections are written at once (the GPU tier runs
several model slots): a job keeps each section's text not sent yet, and one flusher
task sends it every `token_interval` seconds (the coalescing window), one `token`
event per section that gained text. A report whose four sections stream at 150
tokens/s each then costs the worker 80 sends a second instead of 600, for at most
`token_interval` of extra delay. Any other event of the job sends the text not sent
yet first, so the order of the log is the order things happened.

The log (`EventLog`) merges the same way: between two other events, a section's text
is one `token` event that grows and carries the `seq` of its last part, so a replay
needs no merging and stays short.

Every event sent is also handed to the JobLog (jobs/log.py), which writes it to the
database in batches. A job this process let go at shutdown (`released`) sends nothing
more: the process that takes it over writes its log from then on.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.exc import SQLAlchemyError

from ..errors import ErtError
from ..market import Ticker

if TYPE_CHECKING:
    from .log import JobLog

JobState = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "failed", "cancelled", "interrupted"})
ACTIVE_STATES: tuple[str, ...] = ("queued", "running")

log = logging.getLogger(__name__)


class Emit(Protocol):
    """Flask-SocketIO's `emit`: send an event to a room."""

    def __call__(self, event: str, data: dict[str, Any], *, to: str) -> Any: ...


StartTask = Callable[..., Any]
Sleep = Callable[[float], Any]


@dataclass(frozen=True)
class JobSpec:
    """What to write: a ticker (fresh data) or a stored report to write again; `owner`:
    who asked (an account, or an address when sign-in is off), for the waiting cap;
    `peers`: the tickers named to compare with (empty: ERT chooses)."""

    ticker: Ticker
    model: str | None = None
    peers: tuple[str, ...] = ()
    regenerate_from: str | None = None
    owner: str | None = None


@dataclass
class JobEvent:
    """One logged event. A `token` event is a run of one section's text: it grows while
    the section is written, and its `seq` is that of its last part sent."""

    seq: int
    name: str
    payload: dict[str, Any]


@dataclass
class EventLog:
    """A job's events as sent, with each section's text merged into one run between two
    other events (the runs of that stretch: `_runs`). Used for the job in memory, for a
    batch written to the database and for a job read back from it: one rule."""

    events: list[JobEvent] = field(default_factory=list)
    _runs: dict[str, JobEvent] = field(default_factory=dict)

    def add(self, seq: int, name: str, payload: dict[str, Any]) -> None:
        if name != "token":
            self._runs.clear()
            self.events.append(JobEvent(seq, name, payload))
            return
        run = self._runs.get(payload["section"])
        if run is None:
            run = JobEvent(seq, name, {**payload})
            self._runs[payload["section"]] = run
            self.events.append(run)
        else:
            run.payload = {**run.payload, "text": run.payload["text"] + payload["text"]}
        run.seq = run.payload["seq"] = seq

    def in_order(self) -> list[JobEvent]:
        """Copies, by `seq`: runs of one stretch may end in another order than they began,
        never past the other event that ends the stretch."""
        return sorted((JobEvent(e.seq, e.name, e.payload) for e in self.events), key=_seq)


def _seq(event: JobEvent) -> int:
    return event.seq


@dataclass(eq=False)
class Job:
    spec: JobSpec
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: JobState = "queued"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_monotonic: float = field(default_factory=time.monotonic)
    ended_monotonic: float | None = None
    log: EventLog = field(default_factory=EventLog)
    last_seq: int = 0  # the number of events sent
    # Each section's text not sent yet, in the order the sections began.
    unsent: dict[str, str] = field(default_factory=dict)
    report_id: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    stage: str = "queued"
    percent: float = 0.0
    # Times a process took the job up again after the one running it stopped.
    restarts: int = 0
    # Let go by this process at shutdown: another one carries it on.
    released: bool = False
    # Keeps numbering, logging and sending of this job's events in one order.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def elapsed(self) -> float:
        """Seconds since the job was submitted; frozen once it ended."""
        end = time.monotonic() if self.ended_monotonic is None else self.ended_monotonic
        return round(end - self.started_monotonic, 2)

    def end(self, state: JobState) -> None:
        self.ended_monotonic = time.monotonic()
        self.state = state

    @property
    def events(self) -> list[JobEvent]:
        return self.log.events

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def error(self) -> dict[str, Any] | None:
        """What the `failed` event said (code, message, suggestions...), if the job failed."""
        if self.state not in ("failed", "cancelled", "interrupted"):
            return None
        for event in reversed(self.events):
            if event.name == "failed":
                return {k: v for k, v in event.payload.items() if k not in ("job_id", "seq")}
        return None

    def replay(self) -> list[JobEvent]:
        """The log as sent so far, for a browser that subscribes late (the text not sent
        yet will come live)."""
        with self.lock:
            return self.log.in_order()

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
            "events": self.last_seq,
            "error": self.error,
        }


class JobEvents:
    """Sends the events of every job of one JobManager; owns the one token flusher."""

    def __init__(
        self,
        *,
        emit: Emit,
        start_task: StartTask,
        sleep: Sleep,
        token_interval: float,
        log: JobLog | None,
    ) -> None:
        self._log = log
        self._emit = emit
        self._start_task = start_task
        self._sleep = sleep
        self._token_interval = token_interval
        self._lock = threading.Lock()
        self._buffering: set[Job] = set()
        self._flusher_running = False

    def send(self, job: Job, name: str, payload: dict[str, Any]) -> None:
        """Number, log and emit one event (after the job's text not sent yet)."""
        with job.lock:
            if job.released:
                return
            self._send_text(job)
            job.last_seq += 1
            payload = {"job_id": job.id, **payload, "seq": job.last_seq}
            if name == "progress":
                payload.setdefault("elapsed", job.elapsed)
            job.log.add(job.last_seq, name, payload)
            self._emit(name, payload, to=job.id)
            if self._log is not None:
                self._log.record(job, job.last_seq, name, payload)

    def end(self, job: Job, state: JobState) -> None:
        """The job ended: its row and whole log are written at once. (A job let go
        carries on elsewhere: here it ends unrecorded, as it stops.)"""
        if job.released:
            return
        job.end(state)
        if self._log is not None:
            self._log.changed(job)
            try:
                self._log.flush()
            except SQLAlchemyError as exc:  # the JobManager's next flush tries again
                log.warning("The end of job %s is not written yet (%s)", job.id, exc)

    def send_text(self, job: Job, section: str, text: str) -> None:
        """Add `text` to the section's text not sent yet; the flusher sends it soon."""
        with job.lock:
            if job.released:
                return
            job.unsent[section] = job.unsent.get(section, "") + text
        with self._lock:
            self._buffering.add(job)
            start_flusher = not self._flusher_running
            self._flusher_running = True
        if start_flusher:
            self._start_task(self._flush_text)

    def _flush_text(self) -> None:
        """The one flusher task: sends new text every `token_interval`; ends when idle."""
        while True:
            self._sleep(self._token_interval)
            with self._lock:
                jobs, self._buffering = self._buffering, set()
                if not jobs:
                    self._flusher_running = False
                    return
            busy = set()
            for job in jobs:
                # A job that is sending an event itself is skipped (it sends its own
                # text first), so one busy job never holds up the others.
                if job.lock.acquire(blocking=False):
                    try:
                        self._send_text(job)
                    finally:
                        job.lock.release()
                else:
                    busy.add(job)
            if busy:
                with self._lock:
                    self._buffering |= busy

    def _send_text(self, job: Job) -> None:
        """Emit each section's text not sent yet, one event per section; the caller
        holds `job.lock`."""
        for section, text in job.unsent.items():
            job.last_seq += 1
            event = {"job_id": job.id, "section": section, "text": text, "seq": job.last_seq}
            job.log.add(job.last_seq, "token", event)
            self._emit("token", event, to=job.id)
            if self._log is not None:
                self._log.record(job, job.last_seq, "token", event)
        job.unsent.clear()


class JobReporter:
    """What a running job uses to send its events, named as DESIGN.md names them."""

    def __init__(self, events: JobEvents, job: Job) -> None:
        self._events = events
        self.job = job

    @property
    def cancelled(self) -> bool:
        return self.job.cancel.is_set()

    def progress(self, stage: str, percent: float, message: str, **extra: Any) -> None:
        self.job.stage = stage
        self.job.percent = round(percent, 1)
        payload = {"stage": stage, "percent": self.job.percent, "message": message, **extra}
        self._events.send(self.job, "progress", payload)

    def token(self, section: str, text: str) -> None:
        self._events.send_text(self.job, section, text)

    def section(self, section: dict[str, Any]) -> None:
        self._events.send(self.job, "section", {"section": section})

    def completed(self, report_id: str, url: str) -> None:
        self.job.report_id = report_id
        self.progress("completed", 100, "Report ready")
        self._events.send(self.job, "completed", {"report_id": report_id, "url": url})
        self._events.end(self.job, "completed")

    def failed(self, error: ErtError) -> None:
        state: JobState = "failed"
        if error.code == "cancelled":
            state = "cancelled"
        elif error.code == "interrupted":
            state = "interrupted"
        self.progress(state, self.job.percent, error.message)
        self._events.send(self.job, "failed", error.fields())
        self._events.end(self.job, state)
