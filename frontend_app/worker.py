"""A report worker: `python -m frontend_app.worker` (README: "Report workers").

With ERT_REPORT_WORKERS on, the web instances put report jobs on the report queue
(jobs/queue.py) and workers write them: each worker takes a job off the queue when one of
its ERT_MAX_CONCURRENT_REPORTS threads is free, runs the report pipeline the web instance
would have run, writes the job's log to the shared database and sends its events through
Socket.IO's Redis message queue (an external emitter), so a browser on any instance sees
them live. Same settings as the web instances (REDIS_URL, DATABASE_URL, the GPU tiers).

SIGTERM (or Ctrl-C): no new jobs; the running ones get ERT_SHUTDOWN_GRACE seconds to finish,
the rest go back on the queue for another worker, which writes them again from the start.
A worker killed outright loses nothing either: its jobs come back once its heartbeat stops.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from typing import Any

import dramatiq
from flask import Flask

from . import web
from .jobs import JobManager
from .jobs.log import JobLog
from .jobs.manager import HELD_ELSEWHERE_DELAY
from .jobs.queue import ACTOR, QUEUE, ReportQueue
from .logs import configure_logging
from .parts import build_parts, freeze_startup_objects
from .settings import ConfigError, Settings
from .shared_redis import MessageQueue, connect
from .web import pages

# By name: run as `python -m`, this module is `__main__`.
log = logging.getLogger("frontend_app.worker")

# The exit status when a setting stops the start (as a mistyped command line would).
CONFIG_ERROR = 2


def _start_thread(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


class ReportWorker:
    """The worker's parts: its job manager, and a Dramatiq worker whose actor hands it jobs."""

    def __init__(self, settings: Settings) -> None:
        if not settings.ert_report_workers or settings.redis_url is None:
            raise ConfigError("ERT_REPORT_WORKERS must be on (with REDIS_URL) for a report worker")
        self.settings = settings
        # Stamped on the jobs it runs (the database's `jobs.instance`).
        self.instance = f"worker-{uuid.uuid4().hex[:12]}"
        shared = connect(settings.redis_url)
        parts = build_parts(
            settings,
            shared,
            start_task=_start_thread,
            sleep=time.sleep,
            report_url=web.report_url(_url_maker()),
        )
        self._integrations = [i.name for i in parts.chain.integrations]
        emitter = MessageQueue(settings.redis_url, write_only=True)
        self.queue = ReportQueue(shared)
        threads = settings.ert_max_concurrent_reports
        self.jobs = JobManager(
            emit=lambda event, data, *, to: emitter.emit(event, data, namespace="/", room=to),
            start_task=_start_thread,
            sleep=time.sleep,
            run=parts.pipeline.run,
            limit=threads,
            log=JobLog(parts.engine, instance=self.instance),
            retention=settings.ert_job_retention_hours * 3600,
            queue=self.queue,
            restarted="Restarted after its report worker stopped",
        )
        dramatiq.actor(actor_name=ACTOR, queue_name=QUEUE, broker=self.queue.broker)(
            self.write_report
        )
        self._worker = dramatiq.Worker(self.queue.broker, worker_threads=threads)
        # Each thread holds at most the job it runs: another worker takes the rest at once.
        self._worker.queue_prefetch = threads

    def write_report(self, job_id: str) -> None:
        """The actor: one job off the queue. Its message is acknowledged when this returns."""
        taken = self.jobs.take(job_id)
        if taken == "requeue":
            self.queue.send(job_id)
        elif taken == "later":  # another process holds it: look again when it may be dead
            self.queue.send(job_id, delay=HELD_ELSEWHERE_DELAY)

    def start(self) -> None:
        self._worker.start()
        self.jobs.start_keeping()
        log.info(
            "ERT report worker %s ready: %d threads, integrations %s",
            self.instance,
            self._worker.worker_threads,
            self._integrations,
        )

    def stop(self) -> None:
        """Let the running reports finish for ERT_SHUTDOWN_GRACE seconds, then stop."""
        self.jobs.close(self.settings.ert_shutdown_grace)
        self._worker.stop(timeout=10_000)


def _url_maker() -> Flask:
    """An app that only builds URLs: the report page's, for the `completed` event."""
    app = Flask(__name__)
    app.register_blueprint(pages.bp)
    return app


def main() -> int:
    configure_logging()
    try:
        worker = ReportWorker(Settings.from_env())
    except ConfigError as exc:
        log.critical("ERT's report worker cannot start: %s", exc)
        return CONFIG_ERROR
    freeze_startup_objects()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    worker.start()
    stopping.wait()
    log.info("ERT report worker stopping")
    worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
