"""Socket.IO events (default namespace): generate, subscribe, cancel.

A socket only watches a job: the job lives in the JobManager, so closing the
tab, reloading or opening a second browser never stops or forks it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room

from .jobs import Job, JobSpec
from .services import Dashboard
from .ticker_input import TickerInputError, parse_generate_payload

log = logging.getLogger(__name__)


def register_socket_events(socketio: SocketIO, dashboard: Dashboard) -> None:
    def attach(job: Job) -> None:
        """Join the job's room, then replay its log to this socket (the client drops repeats)."""
        join_room(job.id)
        for event in dashboard.jobs.replay(job):
            socketio.emit(event.name, event.payload, to=request.sid)

    @socketio.on("generate")
    def on_generate(data: Any) -> dict[str, Any]:
        try:
            ticker, model = parse_generate_payload(data, dashboard)
        except TickerInputError as exc:
            return {"error": {"code": exc.code, "message": exc.message}}
        job = dashboard.jobs.submit(JobSpec(ticker=ticker, model=model))
        attach(job)
        return {"job_id": job.id}

    @socketio.on("subscribe")
    def on_subscribe(data: Any) -> dict[str, Any]:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        job = dashboard.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return {
                "error": {
                    "code": "unknown_job",
                    "message": "That report job is not known (it may have expired)",
                }
            }
        attach(job)
        return {"job_id": job.id, "state": job.state}

    @socketio.on_error_default
    def on_error(exc: Exception) -> dict[str, Any]:
        log.exception("Socket.IO handler failed")
        return {"error": {"code": "internal_error", "message": "Something went wrong; try again"}}

    @socketio.on("cancel")
    def on_cancel(data: Any) -> dict[str, Any]:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not dashboard.jobs.cancel(job_id):
            return {"error": {"code": "not_cancellable", "message": "No running job with that id"}}
        return {"job_id": job_id, "cancelling": True}
