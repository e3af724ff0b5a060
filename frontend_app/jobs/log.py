"""The jobs' durable record: each job's row (what to write, where it stands) and its event
log, in the dashboard's database, so a job id stays valid after a restart.

Writes are batched: events are kept in a list and written by `flush` (the JobManager
calls it every FLUSH_INTERVAL, and at once when a job ends), one transaction for all
jobs. A batch's text is merged as the job's log merges it (job.EventLog: one row per
section between two other events, with the `seq` of its last part), and so is a job
read back, so a replay after a restart looks like one before it.

Each process is an `instance`: it stamps the jobs it runs and refreshes their
`heartbeat_at`. Unfinished jobs whose instance let them go (`release`, at shutdown) or
stopped beating (killed) are taken over by the next process that looks (`adopt`). With
report workers, a job is let go as soon as it is queued (`let_go`), and the worker that
takes its id off the queue claims that one job (`claim`).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from ..database import Base
from ..market import Ticker
from .job import ACTIVE_STATES, TERMINAL_STATES, EventLog, Job, JobSpec, JobState


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(12))
    model: Mapped[str | None] = mapped_column(String(100))
    peers: Mapped[list[str]] = mapped_column(JSON)
    regenerate_from: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20), index=True)
    stage: Mapped[str] = mapped_column(String(30))
    percent: Mapped[float] = mapped_column(Float)
    report_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_seq: Mapped[int] = mapped_column(Integer)
    restarts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    instance: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The columns of a job's row that change as it runs.
_STATE_COLUMNS = (
    "state",
    "stage",
    "percent",
    "report_id",
    "error",
    "last_seq",
    "restarts",
    "ended_at",
)


class JobEventRow(Base):
    __tablename__ = "job_events"

    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


_EVENTS = Base.metadata.tables[JobEventRow.__tablename__]
_JOBS = Base.metadata.tables[JobRow.__tablename__]
_UPDATE_STATE = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job"))
    .values({name: bindparam(name) for name in _STATE_COLUMNS})
)


class Waiting(NamedTuple):
    """A queued job, as `JobLog.waiting` lists them; `free`: nobody holds it (it waits on
    the report queue)."""

    id: str
    owner: str | None
    created_at: datetime
    free: bool


@dataclass
class _Pending:
    job: Job
    seq: int
    name: str
    payload: dict[str, Any]


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (it drops the zone); they were UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _now() -> datetime:
    return datetime.now(UTC)


class JobLog:
    def __init__(self, engine: Engine, *, instance: str | None = None) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.instance = instance or uuid.uuid4().hex
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._changed: dict[str, Job] = {}
        # One flush at a time, so a job's row is never overwritten by an older state.
        self._flushing = threading.Lock()

    def add(self, job: Job) -> None:
        """Write a new job's row at once: its id is valid from the moment it is answered."""
        with self._sessions.begin() as session:
            session.add(
                JobRow(
                    id=job.id,
                    ticker=job.spec.ticker,
                    model=job.spec.model,
                    peers=list(job.spec.peers),
                    regenerate_from=job.spec.regenerate_from,
                    owner=job.spec.owner,
                    created_at=job.created_at,
                    instance=self.instance,
                    heartbeat_at=_now(),
                    **self._state(job),
                )
            )

    def record(self, job: Job, seq: int, name: str, payload: dict[str, Any]) -> None:
        """Keep one sent event for the next flush (text leaves the job's row as it is)."""
        with self._lock:
            self._pending.append(_Pending(job, seq, name, payload))
            if name != "token":
                self._changed[job.id] = job

    def changed(self, job: Job) -> None:
        """The job's state changed without an event: write its row at the next flush."""
        with self._lock:
            self._changed[job.id] = job

    def flush(self) -> None:
        """Write what was recorded since the last flush, in one transaction."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, []
                changed, self._changed = self._changed, {}
            if not pending and not changed:
                return
            try:
                # Core statements, each run once for all its rows (executemany).
                with self._engine.begin() as connection:
                    rows = _merge_text(pending)
                    if rows:
                        connection.execute(insert(_EVENTS), rows)
                    states = [{"job": job.id, **self._state(job)} for job in changed.values()]
                    if states:
                        connection.execute(_UPDATE_STATE, states)
            except SQLAlchemyError:
                with self._lock:  # nothing is lost: the next flush writes it all
                    self._pending[:0] = pending
                    self._changed = {**changed, **self._changed}
                raise

    @staticmethod
    def _state(job: Job) -> dict[str, Any]:
        """The values of _STATE_COLUMNS for the job as it is now."""
        ended = None
        if job.ended_monotonic is not None:
            ended = job.created_at + timedelta(seconds=job.elapsed)
        return {
            "state": job.state,
            "stage": job.stage,
            "percent": job.percent,
            "report_id": job.report_id,
            "error": job.error,
            "last_seq": job.last_seq,
            "restarts": job.restarts,
            "ended_at": ended,
        }

    def load(self, job_id: str) -> Job | None:
        """The job as last written, with its log (text runs merged), or None."""
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                return None
            query = select(JobEventRow).where(JobEventRow.job_id == job_id)
            events = EventLog()
            for event in session.scalars(query.order_by(JobEventRow.seq)):
                events.add(event.seq, event.name, event.payload)
            return _job(row, events)

    def heartbeat(self) -> None:
        """This process is alive: its unfinished jobs are not to be taken over."""
        with self._sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.instance == self.instance, JobRow.state.in_(ACTIVE_STATES))
                .values(heartbeat_at=_now())
            )

    def adopt(self, lease: float) -> list[Job]:
        """Take over the unfinished jobs nobody runs: let go by their process, or whose
        process has not beaten for `lease` seconds. Oldest first."""
        stale = _now() - timedelta(seconds=lease)
        orphan = (
            JobRow.state.in_(ACTIVE_STATES),
            or_(JobRow.instance.is_(None), JobRow.heartbeat_at < stale),
            or_(JobRow.instance.is_(None), JobRow.instance != self.instance),
        )
        adopted = []
        with self._sessions.begin() as session:
            ids = session.scalars(select(JobRow.id).where(*orphan).order_by(JobRow.created_at))
            for job_id in list(ids):
                # Claimed only if still an orphan: two processes never take the same job.
                claim = (
                    update(JobRow)
                    .where(JobRow.id == job_id, *orphan)
                    .values(instance=self.instance, heartbeat_at=_now())
                )
                if session.execute(claim).rowcount == 1:  # type: ignore[attr-defined]
                    adopted.append(job_id)
        return [job for job in map(self.load, adopted) if job is not None]

    def claim(self, job_id: str, lease: float) -> Job | None:
        """Take the job up here if nobody holds it: queued and let go (a report worker takes
        it off the queue), or running but let go or not beaten for `lease` seconds (its
        worker stopped). Claimed at most once: the update checks it in one step."""
        stale = _now() - timedelta(seconds=lease)
        claimable = (
            JobRow.id == job_id,
            or_(
                and_(JobRow.state == "queued", JobRow.instance.is_(None)),
                and_(
                    JobRow.state == "running",
                    or_(JobRow.instance.is_(None), JobRow.heartbeat_at < stale),
                ),
            ),
        )
        with self._sessions.begin() as session:
            claim = (
                update(JobRow).where(*claimable).values(instance=self.instance, heartbeat_at=_now())
            )
            claimed = session.execute(claim).rowcount == 1  # type: ignore[attr-defined]
        return self.load(job_id) if claimed else None

    def let_go(self, job: Job) -> None:
        """Let one job go, after writing all it has: whoever claims it numbers on."""
        self.flush()
        with self._sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job.id, JobRow.instance == self.instance)
                .values(instance=None)
            )

    def state_of(self, job_id: str) -> str | None:
        """The job's state as written, or None if there is no such job."""
        with self._sessions() as session:
            return session.scalar(select(JobRow.state).where(JobRow.id == job_id))

    def waiting(self) -> list[Waiting]:
        """The queued jobs of every instance, oldest first."""
        with self._sessions() as session:
            query = select(JobRow.id, JobRow.owner, JobRow.created_at, JobRow.instance)
            found = session.execute(
                query.where(JobRow.state == "queued").order_by(JobRow.created_at)
            )
            return [
                Waiting(row.id, row.owner, _utc(row.created_at) or _now(), row.instance is None)
                for row in found
            ]

    def unfinished(self) -> list[str]:
        """The ids of every instance's unfinished jobs, oldest first."""
        with self._sessions() as session:
            query = select(JobRow.id).where(JobRow.state.in_(ACTIVE_STATES))
            return list(session.scalars(query.order_by(JobRow.created_at)))

    def send_to_waiting(
        self, job_id: str, name: str, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Write one event of a queued job that nobody holds, numbered next; the payload as
        written, to emit, or None if the job is held or ended by now. The number is taken in
        the job's row in the same step as `claim` checks it, so the event comes before a
        worker's claim, or not at all."""
        with self._sessions.begin() as session:
            seq = session.scalar(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == "queued", JobRow.instance.is_(None))
                .values(last_seq=JobRow.last_seq + 1)
                .returning(JobRow.last_seq)
            )
            if seq is None:
                return None
            payload = {"job_id": job_id, **payload, "seq": seq}
            session.execute(
                insert(_EVENTS), [{"job_id": job_id, "seq": seq, "name": name, "payload": payload}]
            )
        return payload

    def counts(self) -> dict[str, int]:
        """Jobs running and waiting, in every instance."""
        with self._sessions() as session:
            query = select(JobRow.state, func.count()).where(JobRow.state.in_(ACTIVE_STATES))
            found = {state: count for state, count in session.execute(query.group_by(JobRow.state))}
        return {"active": found.get("running", 0), "waiting": found.get("queued", 0)}

    def release(self) -> None:
        """Let this process's unfinished jobs go (it is stopping), after writing all it has."""
        self.flush()
        with self._sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.instance == self.instance, JobRow.state.in_(ACTIVE_STATES))
                .values(instance=None)
            )

    def prune(self, ended_before: datetime) -> int:
        """Forget the jobs that ended before `ended_before` (their reports stay); how many."""
        with self._sessions.begin() as session:
            old = select(JobRow.id).where(JobRow.ended_at < ended_before)
            session.execute(delete(JobEventRow).where(JobEventRow.job_id.in_(old)))
            result = session.execute(delete(JobRow).where(JobRow.ended_at < ended_before))
            return int(result.rowcount)  # type: ignore[attr-defined]


def _merge_text(pending: list[_Pending]) -> list[dict[str, Any]]:
    """The rows to insert: each job's events of the batch, text merged as its log merges it."""
    logs: dict[str, EventLog] = {}
    for event in pending:
        logs.setdefault(event.job.id, EventLog()).add(event.seq, event.name, event.payload)
    return [
        {"job_id": job_id, "seq": e.seq, "name": e.name, "payload": e.payload}
        for job_id, log in logs.items()
        for e in log.events
    ]


def _job(row: JobRow, events: EventLog) -> Job:
    created = _utc(row.created_at) or _now()
    ended = _utc(row.ended_at)
    state: JobState = row.state  # type: ignore[assignment]
    spec = JobSpec(
        ticker=Ticker(row.ticker),
        model=row.model,
        peers=tuple(row.peers),
        regenerate_from=row.regenerate_from,
        owner=row.owner,
    )
    age = ((ended or _now()) - created).total_seconds()
    now = time.monotonic()
    return Job(
        spec=spec,
        id=row.id,
        state=state,
        created_at=created,
        started_monotonic=now - age,
        ended_monotonic=now if state in TERMINAL_STATES else None,
        log=events,
        # The row is written with each event but text: text may have come after.
        last_seq=max([row.last_seq, *(e.seq for e in events.events)]),
        report_id=row.report_id,
        stage=row.stage,
        percent=row.percent,
        restarts=row.restarts,
    )
