"""Report jobs are owned by the server, not by the socket that started them.

At most `limit` jobs run at once; the others wait in a FIFO queue and are told
their position whenever it changes. Finished jobs are kept (the newest
`keep_finished`) so a browser that comes back can replay them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from ..errors import ErtError
from .job import Emit, Job, JobEvents, JobReporter, JobSpec, Sleep, StartTask


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
        self._events = JobEvents(
            emit=emit, start_task=start_task, sleep=sleep, token_interval=token_interval
        )
        self._start_task = start_task
        self._run = run
        self.limit = limit
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: set[str] = set()
        self._waiting: deque[Job] = deque()

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
        try:
            self._run(reporter)
        finally:
            if not job.finished:  # the runner must end every job; this is the safety net
                reporter.failed(ErtError("internal_error", "The report could not be finished"))
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
