"""Report jobs are owned by the server, not by the socket that started them.

At most `limit` jobs run at once, and never more than the GPU tier runs at once
(`gpu_slots`, from its /health); the others wait in a FIFO queue and are told their
position whenever it changes. Admission: at most `max_waiting` jobs wait in all and
`max_waiting_per_owner` per owner; past that a job is refused with TryLater ("try
again in N minutes") and nothing is queued. Finished jobs are kept (the newest
`keep_finished`) so a browser that comes back can replay them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..errors import ErtError, TryLater
from .job import Emit, Job, JobEvents, JobReporter, JobSpec, Sleep, StartTask

# Seconds a report takes until the manager has seen some finish.
TYPICAL_REPORT_SECONDS = 60.0


class JobManager:
    def __init__(
        self,
        *,
        emit: Emit,
        start_task: StartTask,
        sleep: Sleep,
        run: Callable[[JobReporter], None],
        limit: int,
        max_waiting: int | None = None,
        max_waiting_per_owner: int | None = None,
        gpu_slots: Callable[[], int | None] = lambda: None,
        token_interval: float = 0.05,
        keep_finished: int = 200,
    ) -> None:
        self._events = JobEvents(
            emit=emit, start_task=start_task, sleep=sleep, token_interval=token_interval
        )
        self._start_task = start_task
        self._run = run
        self.limit = limit
        self._max_waiting = max_waiting
        self._max_waiting_per_owner = max_waiting_per_owner
        self._gpu_slots = gpu_slots
        # Seconds a report takes, as the last ones did: for "try again in N minutes".
        self._report_seconds = TYPICAL_REPORT_SECONDS
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: set[str] = set()
        self._waiting: deque[Job] = deque()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def submit(self, spec: JobSpec) -> Job:
        """The job, running or waiting; TryLater (and nothing queued) past the bounds."""
        job = Job(spec=spec)
        with self._lock:
            self._prune()
            start_now = len(self._running) < self._slots()
            if not start_now:
                self._admit(spec)
            self._jobs[job.id] = job
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

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop; False if there is no such job or it already ended."""
        job = self._jobs.get(job_id)
        if job is None or job.finished:
            return False
        job.cancel.set()
        with self._lock:
            was_waiting = job in self._waiting
            if was_waiting:
                self._waiting.remove(job)
                waiting = list(self._waiting)
        if was_waiting:
            JobReporter(self._events, job).failed(
                ErtError("cancelled", "Cancelled before it started")
            )
            self._announce_positions(waiting)
        return True

    def queue_position(self, job: Job) -> int | None:
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def _slots(self) -> int:
        """Jobs that may run at once: the limit, and not more than the GPU tier can hold."""
        return min(self.limit, self._gpu_slots() or self.limit)

    def _admit(self, spec: JobSpec) -> None:
        """May `spec` wait for a slot? The caller holds the lock."""
        waiting = len(self._waiting)
        if self._max_waiting is not None and waiting >= self._max_waiting:
            reason = f"ERT is busy ({_reports(waiting)} waiting)"
            raise TryLater("busy", reason, self._wait_for(1))
        cap = self._max_waiting_per_owner
        mine = [i for i, j in enumerate(self._waiting) if j.spec.owner == spec.owner]
        if cap is not None and spec.owner is not None and len(mine) >= cap:
            reason = f"You already have {_reports(len(mine))} waiting"
            raise TryLater("too_many_waiting", reason, self._wait_for(mine[0] + 1))

    def _wait_for(self, position: int) -> float:
        """Seconds until the job at `position` in the queue may start, as reports go now."""
        return position / self._slots() * self._report_seconds

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
        reporter = JobReporter(self._events, job)
        started = time.monotonic()
        try:
            self._run(reporter)
        finally:
            if not job.finished:  # the runner must end every job; this is the safety net
                reporter.failed(ErtError("internal_error", "The report could not be finished"))
            with self._lock:
                if job.state == "completed":
                    took = time.monotonic() - started
                    self._report_seconds = 0.8 * self._report_seconds + 0.2 * took
                self._running.discard(job.id)
                next_jobs = []
                while self._waiting and len(self._running) < self._slots():
                    next_jobs.append(self._waiting.popleft())
                    self._running.add(next_jobs[-1].id)
                waiting = list(self._waiting)
            for next_job in next_jobs:
                self._start(next_job)
            if next_jobs:
                self._announce_positions(waiting)

    def _announce_positions(self, waiting: list[Job]) -> None:
        for position, job in enumerate(waiting, start=1):
            self._announce_position(job, position)

    def _announce_position(self, job: Job, position: int) -> None:
        JobReporter(self._events, job).progress(
            "queued",
            0,
            f"Waiting for a free slot: position {position} in the queue",
            queue_position=position,
        )

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[job.id]


def _reports(count: int) -> str:
    return "1 report" if count == 1 else f"{count} reports"
