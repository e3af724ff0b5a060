"""Report jobs are owned by the server, not by the socket that started them.

At most `limit` jobs run at once, and never more than the GPU tier runs at once
(`gpu_slots`, from its /health); the others wait in a FIFO queue and are told their
position whenever it changes. Admission: at most `max_waiting` jobs wait in all and
`max_waiting_per_owner` per owner; past that a job is refused with TryLater ("try
again in N minutes") and nothing is queued. Finished jobs are kept (the newest
`keep_finished`) so a browser that comes back can replay them.

With a JobLog (jobs/log.py) every job is also in the database, so it outlives the process:
- `get` finds a job this process does not hold (the one before it ran it) in the log;
- `start_keeping` starts the one background task that writes the log every
  FLUSH_INTERVAL, marks this process's jobs alive, takes over orphaned ones and forgets
  finished jobs older than `retention` seconds (their reports stay);
- `close` (SIGTERM) stops taking jobs, lets the running ones finish within a grace
  period, and lets the rest go for the next process (`release`).

A job taken over is written again from its stored inputs (ticker, model, or the stored
report it rewrites), announced as "Restarted after a server restart" with `reset` (the
page clears the text so far). Once only: a job whose process dies a second time ends
`interrupted`, with Retry, so a report that kills the dashboard (memory) cannot do it
again and again.

With a ReportQueue (jobs/queue.py: report workers write the reports) the manager of a web
instance runs nothing: `submit` writes the job and its place in the queue, lets it go and
puts it on the queue, where the bounds count every instance's waiting jobs. A report
worker's manager runs the jobs its threads take off the queue (`take`), tells the jobs still
waiting their new place, and looks for the cancels asked on any instance. Nobody adopts
jobs then: a dead worker's jobs come back through the queue, and the worker that takes one
up again says so, as above. A Redis that lost its data has lost the queue: the first
process to see it puts every unfinished job on it again (queue.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import redis
from sqlalchemy.exc import SQLAlchemyError

from .. import database
from ..errors import ErtError, TryLater
from ..shared_redis import Unavailable
from .job import TERMINAL_STATES, Emit, Job, JobEvents, JobReporter, JobSpec, Sleep, StartTask
from .log import JobLog
from .queue import ReportQueue

log = logging.getLogger(__name__)

# Seconds a report takes until the manager has seen some finish.
TYPICAL_REPORT_SECONDS = 60.0
# Seconds between writes of the job log (a job's end is written at once).
FLUSH_INTERVAL = 0.25
# Seconds between heartbeats (and looks for orphaned jobs, and pruning).
UPKEEP_INTERVAL = 5.0
# Seconds without a heartbeat after which a process counts as dead and its jobs are taken over.
LEASE_SECONDS = 15.0
# Times a job is taken up again after its process died.
MAX_RESTARTS = 1
# How far a job's numbering jumps when it is taken up after its process stopped: the events
# that process sent in its last moments never reached the database, yet a browser on another
# instance saw them; new events must not reuse their numbers. (A report sends a few
# thousand events; a browser that sees the jump watches the job again from its log.)
SEQ_JUMP_AFTER_RESTART = 100_000
WAITING_FOR_WORKER = "Waiting for a report worker"
# Seconds before a report worker looks again at a job that another process still holds.
HELD_ELSEWHERE_DELAY = LEASE_SECONDS

# What became of a job a report worker took off the queue (`take`): it ended here; or it
# is to go back on the queue (let go at shutdown, or held by a live process); or it needs
# nothing more (ended, or no such job).
Taken = Literal["ended", "requeue", "later", "gone"]


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
        log: JobLog | None = None,
        retention: float = 24 * 3600.0,
        queue: ReportQueue | None = None,
        restarted: str = "Restarted after a server restart",
    ) -> None:
        self._events = JobEvents(
            emit=emit, start_task=start_task, sleep=sleep, token_interval=token_interval, log=log
        )
        self._log = log
        self._emit = emit
        if queue is not None and log is None:
            raise ValueError("report workers need the job log: the queue carries job ids only")
        # The report queue and the job log, when report workers write the reports.
        self._workers = (queue, log) if queue is not None and log is not None else None
        self._restarted = restarted
        self._retention = retention
        self._sleep = sleep
        self._closing = False  # no new jobs, no more starts from the queue
        self._stopped = False  # jobs let go, the keeper ends
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
        """The job, from memory or, if this process does not hold it, from the log."""
        job = self._jobs.get(job_id)
        if job is not None or self._log is None:
            return job
        job = self._log.load(job_id)
        if job is not None and job.finished:
            with self._lock:  # an unfinished one is another process's: read it afresh each time
                job = self._jobs.setdefault(job.id, job)
        return job

    def submit(self, spec: JobSpec) -> Job:
        """The job, running or waiting; TryLater (and nothing queued) past the bounds."""
        job = Job(spec=spec)
        ahead = 0  # jobs waiting on the report queue before this one
        with self._lock:
            if self._closing:
                raise TryLater("restarting", "ERT is restarting", TYPICAL_REPORT_SECONDS)
            self._prune()
            if self._workers is None and len(self._running) >= self._slots():
                self._admit(spec, [job.spec.owner for job in self._waiting])
            if self._log is not None:
                try:
                    if self._workers is not None:  # the workers' queue, every instance's jobs
                        waiting = self._log.waiting()
                        self._admit(spec, [each.owner for each in waiting])
                        ahead = sum(each.free for each in waiting)
                    self._log.add(job)
                except SQLAlchemyError as exc:
                    raise database.unavailable(exc) from None
            if self._workers is None:
                self._jobs[job.id] = job
        if self._workers is not None:
            self._dispatch(job, ahead + 1, *self._workers)
        else:
            self._enqueue(job)
        return job

    def _dispatch(self, job: Job, position: int, queue: ReportQueue, job_log: JobLog) -> None:
        """Tell the job its place, write it, let it go and put it on the report queue."""
        self._announce_position(job, position, WAITING_FOR_WORKER)
        job_log.let_go(job)
        try:
            queue.send(job.id)
        except TryLater:
            claimed = job_log.claim(job.id, LEASE_SECONDS)  # not on the queue: end it
            if claimed is not None:
                JobReporter(self._events, claimed).failed(
                    ErtError("temporarily_unavailable", "The report could not be queued")
                )
            raise

    def _enqueue(self, job: Job) -> None:
        """Start the job if a slot is free, else queue it and tell it its place."""
        with self._lock:
            start_now = len(self._running) < self._slots() and not self._closing
            if start_now:
                self._running.add(job.id)
            else:
                self._waiting.append(job)
                position = len(self._waiting)
        if start_now:
            self._start(job)
        else:
            self._announce_position(job, position)

    def start_keeping(self) -> None:
        """Start the task that keeps the job log (see the module's docstring); once, when
        the app serves."""
        if self._log is not None:
            self._start_task(self._keep, self._log)

    def _keep(self, job_log: JobLog) -> None:
        next_upkeep = 0.0
        failing = False
        while not self._stopped:
            try:
                job_log.flush()
                if time.monotonic() >= next_upkeep:
                    next_upkeep = time.monotonic() + UPKEEP_INTERVAL
                    job_log.heartbeat()
                    if not self._closing and self._workers is None:
                        self._take_over(job_log.adopt(LEASE_SECONDS))
                    self._queue_again_if_lost()
                    job_log.prune(datetime.now(UTC) - timedelta(seconds=self._retention))
                if failing:
                    log.warning("The job log is written again")
                failing = False
            except SQLAlchemyError as exc:
                if not failing:
                    log.warning(
                        "The job log cannot be written (%s); trying again", type(exc).__name__
                    )
                failing = True
            self._look_for_cancels()
            self._sleep(FLUSH_INTERVAL)

    def _queue_again_if_lost(self) -> None:
        """With report workers: if Redis lost the queue (restarted without its data), put
        every unfinished job on it again (raises SQLAlchemyError)."""
        if self._workers is None:
            return
        queue, job_log = self._workers
        try:
            if not queue.lost_its_jobs():
                return
            unfinished = job_log.unfinished()
            for job_id in unfinished:
                queue.send(job_id)
            queue.made_whole()
        except (redis.RedisError, Unavailable):
            return  # looked at again at the next upkeep
        if unfinished:
            log.warning(
                "Redis had lost the report queue (restarted without its data?): "
                "%d unfinished report jobs are on it again",
                len(unfinished),
            )

    def _look_for_cancels(self) -> None:
        """A report worker: cancel the running jobs someone asked to cancel on any instance."""
        if self._workers is None:
            return
        with self._lock:
            running = {job_id: self._jobs[job_id] for job_id in self._running}
        try:
            asked = self._workers[0].cancels_asked(running)
        except redis.RedisError:
            return  # looked for again at the next flush
        for job_id in asked:
            running[job_id].cancel.set()

    def _take_over(self, jobs: list[Job]) -> None:
        """Carry on the jobs of a process that stopped (see the module's docstring)."""
        for job in jobs:
            with self._lock:
                self._jobs[job.id] = job
            if self._resume(job):
                self._enqueue(job)

    def _resume(self, job: Job) -> bool:
        """Say that the job of a process that stopped carries on here, or end it
        `interrupted` if it was cut off once already."""
        job.last_seq += SEQ_JUMP_AFTER_RESTART
        reporter = JobReporter(self._events, job)
        if job.state == "running" and job.restarts >= MAX_RESTARTS:
            reporter.failed(
                ErtError(
                    "interrupted",
                    "The server restarted twice while this report was being written; "
                    "Retry to write it again",
                    retryable=True,
                )
            )
            return False
        again = "waiting for a free slot"
        if job.state == "running":
            job.restarts += 1
            again = "writing the report again from the start"
        job.state = "queued"
        reporter.progress("queued", 0, f"{self._restarted}: {again}", reset=True)
        return True

    def take(self, job_id: str) -> Taken:
        """A report worker's thread took `job_id` off the queue: run it here, in this thread,
        if nobody holds it (jobs/queue.py)."""
        if self._closing:
            return "requeue"
        assert self._workers is not None, "a report worker has the report queue"
        job_log = self._workers[1]
        job = job_log.claim(job_id, LEASE_SECONDS)
        if job is None:
            state = job_log.state_of(job_id)
            return "gone" if state is None or state in TERMINAL_STATES else "later"
        self._tell_places(job_log)
        with self._lock:
            self._jobs[job.id] = job
            self._running.add(job.id)
        if job.state == "running" and not self._resume(job):
            with self._lock:
                self._running.discard(job.id)
            return "ended"
        self._start(job, here=True)
        return "requeue" if job.released else "ended"

    def close_then(self, grace: float, then: Callable[[], object]) -> None:
        """`close(grace)` in a background task, then `then()`: for a signal handler."""

        def closing() -> None:
            self.close(grace)
            then()

        self._start_task(closing)

    def close(self, grace: float) -> None:
        """SIGTERM: take no new jobs and start none from the queue; wait up to `grace`
        seconds for the running ones to finish, then let the rest go (`release`)."""
        with self._lock:
            self._closing = True
        deadline = time.monotonic() + grace
        while self._running and time.monotonic() < deadline:
            self._sleep(0.2)
        self.release()

    def release(self) -> None:
        """Let every unfinished job go, stopped here, for the next process to take over."""
        with self._lock:
            if self._stopped:
                return
            self._closing = self._stopped = True
            unfinished = [job for job in self._jobs.values() if not job.finished]
        for job in unfinished:
            with job.lock:
                job.released = True
            job.cancel.set()
        if self._log is not None:
            try:
                self._log.release()
            except SQLAlchemyError as exc:  # they are taken over once their lease runs out
                log.warning("The unfinished jobs could not be let go (%s)", type(exc).__name__)

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop; False if there is no such job or it already ended."""
        job = self._jobs.get(job_id)
        if job is None and self._workers is not None:
            return self._cancel_elsewhere(job_id, *self._workers)
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

    def _cancel_elsewhere(self, job_id: str, queue: ReportQueue, job_log: JobLog) -> bool:
        """Cancel a job on the report queue: ended here if no worker holds it, else asked
        of the worker that runs it."""
        job = job_log.claim(job_id, LEASE_SECONDS)
        if job is not None:
            message = "Cancelled" if job.state == "running" else "Cancelled before it started"
            JobReporter(self._events, job).failed(ErtError("cancelled", message))
            self._tell_places(job_log)
            return True
        state = job_log.state_of(job_id)
        if state is None or state in TERMINAL_STATES:
            return False
        queue.ask_cancel(job_id)
        return True

    def _tell_places(self, job_log: JobLog) -> None:
        """The report queue moved: tell each job waiting on it its place (written straight to
        the log: a queued job has no holder to number its events)."""
        try:
            waiting = [each for each in job_log.waiting() if each.free]
            for position, each in enumerate(waiting, start=1):
                payload = {
                    "stage": "queued",
                    "percent": 0.0,
                    "message": _place(WAITING_FOR_WORKER, position),
                    "queue_position": position,
                    "elapsed": round((datetime.now(UTC) - each.created_at).total_seconds(), 2),
                }
                sent = job_log.send_to_waiting(each.id, "progress", payload)
                if sent is not None:
                    self._emit("progress", sent, to=each.id)
        except SQLAlchemyError as exc:  # told again when the queue next moves
            log.warning("The places in the report queue could not be told (%s)", exc)

    def queue_position(self, job: Job) -> int | None:
        if self._workers is not None:
            waiting = [waiting.id for waiting in self._workers[1].waiting() if waiting.free]
            return waiting.index(job.id) + 1 if job.id in waiting else None
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def _slots(self) -> int:
        """Jobs that may run at once: the limit, and not more than the GPU tier can hold."""
        return min(self.limit, self._gpu_slots() or self.limit)

    def _admit(self, spec: JobSpec, owners: list[str | None]) -> None:
        """May `spec` wait for a slot, behind jobs of these `owners`? The caller holds the lock."""
        waiting = len(owners)
        if self._max_waiting is not None and waiting >= self._max_waiting:
            reason = f"ERT is busy ({_reports(waiting)} waiting)"
            raise TryLater("busy", reason, self._wait_for(1))
        cap = self._max_waiting_per_owner
        mine = [i for i, owner in enumerate(owners) if owner == spec.owner]
        if cap is not None and spec.owner is not None and len(mine) >= cap:
            reason = f"You already have {_reports(len(mine))} waiting"
            raise TryLater("too_many_waiting", reason, self._wait_for(mine[0] + 1))

    def _wait_for(self, position: int) -> float:
        """Seconds until the job at `position` in the queue may start, as reports go now."""
        return position / self._slots() * self._report_seconds

    def counts(self) -> dict[str, int]:
        if self._workers is not None:
            return {**self._workers[1].counts(), "limit": self.limit}  # the report workers'
        with self._lock:
            return {
                "active": len(self._running),
                "waiting": len(self._waiting),
                "limit": self.limit,
            }

    def _start(self, job: Job, *, here: bool = False) -> None:
        """Run the job in a task of its own, or `here`, in the calling thread."""
        job.state = "running"
        if self._log is not None:
            self._log.changed(job)
        if here:
            self._run_job(job)
        else:
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
                while self._waiting and len(self._running) < self._slots() and not self._closing:
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

    def _announce_position(
        self, job: Job, position: int, waiting: str = "Waiting for a free slot"
    ) -> None:
        JobReporter(self._events, job).progress(
            "queued", 0, _place(waiting, position), queue_position=position
        )

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[job.id]


def _place(waiting: str, position: int) -> str:
    return f"{waiting}: position {position} in the queue"


def _reports(count: int) -> str:
    return "1 report" if count == 1 else f"{count} reports"
