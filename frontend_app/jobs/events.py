"""Sending a job's events: numbered, logged for replay, emitted to the job's room.

Every event a job sends gets the next `seq`, goes into the job's log and is emitted
to the job's Socket.IO room (named after the job id). A browser that subscribes late
gets the log replayed (`Job.replay`), then the live events; it drops any event whose
`seq` it has already seen, so a subscribe racing with a live event neither loses
nor doubles it.

Tokens are merged once, into the log: a run of one section's text is one logged
`token` event that grows. One flusher task sends what each run gained every
`token_interval` seconds. A hundred reports at 100 tokens/s then cost the worker
2,000 sends a second instead of 10,000, for at most `token_interval` of extra
delay, and a replay needs no merging. Any other event of the job sends the text
not sent yet first, so the order of the log is the order things happened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..errors import ErtError
from .job import Job, JobEvent

Emit = Callable[[str, dict[str, Any], str], None]
StartTask = Callable[..., Any]
Sleep = Callable[[float], Any]


class JobEvents:
    """Sends the events of every job of one JobManager; owns the one token flusher."""

    def __init__(
        self, *, emit: Emit, start_task: StartTask, sleep: Sleep, token_interval: float
    ) -> None:
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
            self._send_text(job)
            job.last_seq += 1
            payload = {"job_id": job.id, **payload, "seq": job.last_seq}
            if name == "progress":
                payload.setdefault("elapsed", job.elapsed)
            job.events.append(JobEvent(job.last_seq, name, payload))
            self._emit(name, payload, job.id)

    def send_text(self, job: Job, section: str, text: str) -> None:
        """Add `text` to the section's run in the log; the flusher sends it soon."""
        with job.lock:
            last = job.events[-1] if job.events else None
            if last is not None and last.name == "token" and last.payload["section"] == section:
                last.payload["text"] += text
            else:
                run = {"job_id": job.id, "section": section, "text": text}
                job.events.append(JobEvent(0, "token", run))
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
        """Emit what the job's token runs gained since last sent; the caller holds `job.lock`."""
        for run in job.events[job.unsent_from :]:
            text = run.payload["text"] if run.name == "token" else ""
            if len(text) > run.sent_chars:
                job.last_seq += 1
                run.seq = run.payload["seq"] = job.last_seq
                piece = {"section": run.payload["section"], "text": text[run.sent_chars :]}
                self._emit("token", {"job_id": job.id, **piece, "seq": run.seq}, job.id)
                run.sent_chars = len(text)
        # Only the last run can still grow.
        job.unsent_from = max(0, len(job.events) - 1)


class JobReporter:
    """What a running job uses to send its events, named as DESIGN.md names them."""

    def __init__(self, events: JobEvents, job: Job) -> None:
        self._events = events
        self.job = job

    @property
    def cancelled(self) -> bool:
        return self.job.cancel_requested

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
        self.job.state = "completed"

    def failed(self, error: ErtError) -> None:
        cancelled = error.code == "cancelled"
        self.progress("cancelled" if cancelled else "failed", self.job.percent, error.message)
        self._events.send(self.job, "failed", error.fields())
        self.job.state = "cancelled" if cancelled else "failed"
