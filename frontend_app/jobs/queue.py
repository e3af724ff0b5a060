"""The report queue, when report workers write the reports (ERT_REPORT_WORKERS; README:
"Report workers"): Dramatiq's queue in the Redis the instances share.

A web instance writes the job's row and first event to the database, then puts the job's
id on the queue; a report worker (`python -m frontend_app.worker`) takes it off when one of
its threads is free and runs the report pipeline there. The queue is one for every
instance, so the reports running at once are the workers' threads, however many web
instances take requests.

Why Dramatiq: a message is acknowledged only when its report has ended, and the messages
a worker held go back on the queue once its heartbeat stops (the Redis broker's
maintenance), so a killed worker loses no job; the pipeline is synchronous code, which
Dramatiq's worker threads run as it is. (arq runs asyncio only; Celery over Redis gives
an unacknowledged job back only after a visibility timeout of an hour by default; RQ
leaves a dead worker's job to code of one's own.)

A cancel asked on any instance is a Redis key that the worker running the job looks for.

A Redis restarted without its data (or a new one) has lost the queued messages: a key set
once the queue holds every unfinished job (WHOLE_KEY) is then missing, and the instance
that sees it puts the unfinished jobs of the database on the queue again. A job sent twice
is still written once: a worker runs a job only if it claims it in the database.
"""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from ..shared_redis import Unavailable

ACTOR = "write_report"
QUEUE = "reports"
# Milliseconds without a broker heartbeat after which a worker counts as dead and the jobs
# it held go back on the queue (its job log heartbeat is older still by then: see
# manager.LEASE_SECONDS).
WORKER_HEARTBEAT_TIMEOUT = 15_000
# The share of broker calls that also look for dead workers (Dramatiq's default, 0.1 %,
# would leave a dead worker's job minutes on end at a few calls a second).
MAINTENANCE_SHARE = 0.1
CANCEL_KEY = "ert:cancel:"
# Seconds a cancel waits for the worker running the job to see it.
CANCEL_TTL = 3600
WHOLE_KEY = "ert:queue:whole"


class ReportQueue:
    def __init__(self, client: redis.Redis) -> None:
        """`client`: REDIS_URL's (shared_redis.connect)."""
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            client=client,
            middleware=[],  # no retries and no time limit: the pipeline ends every job itself
            heartbeat_timeout=WORKER_HEARTBEAT_TIMEOUT,
            maintenance_chance=int(MAINTENANCE_SHARE * MAINTENANCE_SCALE),
        )
        self.broker.declare_queue(QUEUE)
        self._redis = client

    def send(self, job_id: str, delay: float | None = None) -> None:
        """Put the job on the queue (after `delay` seconds); Unavailable if Redis is gone."""
        message: dramatiq.Message[None] = dramatiq.Message(
            queue_name=QUEUE, actor_name=ACTOR, args=(job_id,), kwargs={}, options={}
        )
        try:
            self.broker.enqueue(message, delay=None if delay is None else int(delay * 1000))
        except redis.RedisError:
            raise Unavailable() from None

    def lost_its_jobs(self) -> bool:
        """Redis has not held the queue whole since it last lost its data (raises
        redis.RedisError)."""
        return not self._redis.exists(WHOLE_KEY)

    def made_whole(self) -> None:
        """Every unfinished job is on the queue again (raises redis.RedisError)."""
        self._redis.set(WHOLE_KEY, 1)

    def ask_cancel(self, job_id: str) -> None:
        try:
            self._redis.set(CANCEL_KEY + job_id, 1, ex=CANCEL_TTL)
        except redis.RedisError:
            raise Unavailable() from None

    def cancels_asked(self, job_ids: Iterable[str]) -> set[str]:
        """Which of these jobs someone asked to cancel (raises redis.RedisError)."""
        ids = list(job_ids)
        if not ids:
            return set()
        asked = self._redis.mget([CANCEL_KEY + job_id for job_id in ids])
        return {job_id for job_id, flag in zip(ids, asked, strict=True) if flag is not None}
