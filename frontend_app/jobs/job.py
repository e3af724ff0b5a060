"""A report job: what to write, where it stands, and the log of the events it sent."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from ..market import Ticker

JobState = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class JobSpec:
    """What to write: a ticker (fresh data) or a stored report to write again."""

    ticker: Ticker
    model: str | None = None
    regenerate_from: str | None = None


@dataclass
class JobEvent:
    """One logged event. A `token` event is a run of one section's text: it grows while
    the section is written, and its `seq` is that of its last part sent."""

    seq: int
    name: str
    payload: dict[str, Any]
    sent_chars: int = 0  # of a token run's text, how much has been sent live


@dataclass(eq=False)
class Job:
    spec: JobSpec
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: JobState = "queued"
    started_monotonic: float = field(default_factory=time.monotonic)
    events: list[JobEvent] = field(default_factory=list)
    last_seq: int = 0  # the number of events sent
    # The first logged token run whose text is not all sent yet.
    unsent_from: int = 0
    report_id: str | None = None
    cancel_requested: bool = False
    stage: str = "queued"
    percent: float = 0.0
    # Keeps numbering, logging and sending of this job's events in one order.
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

    def replay(self) -> list[JobEvent]:
        """The log as sent so far, for a browser that subscribes late: each run of one
        section's text is one event (its text not sent yet will come live)."""
        with self.lock:
            return [
                JobEvent(e.seq, e.name, {**e.payload, "text": e.payload["text"][: e.sent_chars]})
                if e.name == "token"
                else e
                for e in self.events
                if e.name != "token" or e.sent_chars
            ]

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
