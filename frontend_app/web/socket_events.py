"""Socket.IO events (default namespace): generate, subscribe, cancel, retry.

A socket only watches a job: the job lives in the JobManager, so closing the
tab, reloading or opening a second browser never stops or forks it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room

from .. import database
from ..errors import ErtError
from ..jobs import Job
from .dashboard import Dashboard
from .errors import error_body
from .inputs import parse_generate_payload
from .signin import asker, signed_in

log = logging.getLogger(__name__)


def register(socketio: SocketIO, dashboard: Dashboard) -> None:
    def attach(job: Job) -> None:
        """Join the job's room, then replay its log to this socket, each event marked
        `replay` (its text may be merged: the client drops repeats and holds live events
        until the replay reaches them)."""
        join_room(job.id)
        for event in job.replay():
            payload = {**event.payload, "replay": True}
            socketio.emit(event.name, payload, to=request.sid)  # type: ignore[attr-defined]

    # Each event may come with no payload at all: `data` then stays None and is refused.
    @socketio.on("generate")
    @signed_in
    def on_generate(data: Any = None) -> dict[str, Any]:
        try:
            job = dashboard.start(parse_generate_payload(data, dashboard), *asker())
        except ErtError as exc:
            return error_body(exc)
        attach(job)
        return {"job_id": job.id}

    @socketio.on("subscribe")
    @signed_in
    def on_subscribe(data: Any = None) -> dict[str, Any]:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        job = dashboard.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return error_body(
                ErtError("unknown_job", "That report job is not known (it may have expired)")
            )
        attach(job)
        return {"job_id": job.id, "state": job.state}

    @socketio.on("retry")
    @signed_in
    def on_retry(data: Any = None) -> dict[str, Any]:
        """Write an ended job's report again, as it was asked for: a new job, watched."""
        job_id = data.get("job_id") if isinstance(data, dict) else None
        job = dashboard.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None or not job.finished:
            return error_body(ErtError("not_retryable", "No ended job with that id"))
        try:
            new = dashboard.start(job.spec, *asker())
        except ErtError as exc:
            return error_body(exc)
        attach(new)
        return {"job_id": new.id}

    @socketio.on_error_default
    def on_error(exc: Exception) -> dict[str, Any]:
        if isinstance(exc, database.DOWN):
            return error_body(database.unavailable(exc))
        log.exception("Socket.IO handler failed")
        return error_body(ErtError("internal_error", "Something went wrong; try again"))

    @socketio.on("cancel")
    @signed_in
    def on_cancel(data: Any = None) -> dict[str, Any]:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str):
            return error_body(ErtError("invalid_request", "Send an object: {job_id}"))
        if not dashboard.jobs.cancel(job_id):
            return error_body(ErtError("not_cancellable", "No running job with that id"))
        return {"job_id": job_id, "cancelling": True}
