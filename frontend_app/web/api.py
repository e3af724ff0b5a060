"""The JSON API: health, reports, jobs, models and the ticker check."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..errors import ErtError
from ..jobs import Job, JobSpec
from ..market import MarketDataError, NotAnEquity, Ticker, validate_ticker
from ..reports.store import StoredReport
from ..reports.view import build_report_view
from ..version import __version__
from .dashboard import dashboard
from .errors import error_response
from .inputs import parse_generate_payload
from .signin import allowed, asker

bp = Blueprint("api", __name__)


def _summary(stored: StoredReport) -> dict[str, Any]:
    return {**stored.summary(), "url": url_for("pages.report", report_id=stored.id)}


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Always 200 (Render restarts a service that fails it), with the GPU tier's state inside
    for those signed in (its address and the jobs are nobody else's business)."""
    body: dict[str, Any] = {
        "status": "ok",
        "timestamp": datetime.now(UTC).isoformat(),
        "version": __version__,
    }
    if allowed():
        body["backend"] = dashboard().backend_status()
    return jsonify(body)


@bp.get("/api/models")
def models() -> ResponseReturnValue:
    return jsonify(models=dashboard().models())


@bp.get("/api/tickers/check")
def check_ticker() -> ResponseReturnValue:
    """The as-you-type check: is the text a ticker (no network), which instruments it may
    name (Yahoo's search; offline, the bundled companies), and is it one ERT refuses."""
    text = request.args.get("q", "")
    market = dashboard().market
    matches = market.search(text)
    body: dict[str, Any] = {
        "suggestions": [m.fields() for m in matches],
        "offline": market.offline,
    }
    try:
        ticker = validate_ticker(text)
    except MarketDataError as exc:
        message = exc.message
        if " " in text.strip() and not matches:  # a name, not a mistyped ticker
            message = f"No company named '{text.strip()[:40]}'"
            message += " among the companies bundled with ERT" if market.offline else ""
        return jsonify(valid=False, code=exc.code, message=message, **body)
    kind = next((m.quote_type for m in matches if m.ticker == ticker), None)
    kind = kind or market.snapshots.quote_type(ticker)
    if kind is not None and kind != "EQUITY":
        body["refused"] = NotAnEquity(ticker, kind).message
    return jsonify(valid=True, ticker=ticker, **body)


@bp.post("/api/reports")
def create_report() -> ResponseReturnValue:
    try:
        spec = parse_generate_payload(request.get_json(silent=True), dashboard())
    except ErtError as exc:
        return error_response(400, exc)
    job = dashboard().start(spec, *asker())
    return jsonify(job_id=job.id), 202


@bp.post("/api/reports/<report_id>/regenerate")
def regenerate(report_id: str) -> ResponseReturnValue:
    """Write a stored report again from its stored inputs, with the same model and options."""
    stored = dashboard().store.get(report_id)
    if stored is None:
        abort(404, description=f"There is no report {report_id!r}")
    # The stored ticker was validated when the report was first asked for.
    spec = JobSpec(ticker=Ticker(stored.ticker), model=stored.model, regenerate_from=stored.id)
    job = dashboard().start(spec, *asker())
    return jsonify(job_id=job.id, url=url_for("pages.index", job=job.id)), 202


def _job(job_id: str) -> Job:
    job = dashboard().jobs.get(job_id)
    if job is None:
        abort(404, description="That report job is not known (it may have expired)")
    return job


def _job_body(job: Job) -> dict[str, Any]:
    url = url_for("pages.report", report_id=job.report_id) if job.report_id else None
    return {**job.to_dict(), "url": url, "queue_position": dashboard().jobs.queue_position(job)}


@bp.get("/api/jobs/<job_id>")
def job_status(job_id: str) -> ResponseReturnValue:
    return jsonify(_job_body(_job(job_id)))


@bp.delete("/api/jobs/<job_id>")
def cancel_job(job_id: str) -> ResponseReturnValue:
    """Cancel a queued or running job (202: it ends as `cancelled` within moments)."""
    job = _job(job_id)
    if not dashboard().jobs.cancel(job.id):
        return error_response(
            409, ErtError("not_cancellable", f"That report job has already ended ({job.state})")
        )
    return jsonify(_job_body(job)), 202


@bp.post("/api/jobs/<job_id>/retry")
def retry_job(job_id: str) -> ResponseReturnValue:
    """Write an ended job's report again, as it was asked for (202, a new job); 409 while
    the job still runs."""
    job = _job(job_id)
    if not job.finished:
        return error_response(
            409, ErtError("not_ended", f"That report job has not ended ({job.state})")
        )
    new = dashboard().start(job.spec, *asker())
    return jsonify(job_id=new.id, url=url_for("pages.index", job=new.id)), 202


@bp.get("/api/reports")
def history() -> ResponseReturnValue:
    """Newest first."""
    limit = request.args.get("limit", default=50, type=int)
    reports = dashboard().store.recent(limit=max(1, min(limit, 200)))
    return jsonify(reports=[_summary(r) for r in reports])


@bp.get("/api/reports/<report_id>")
def report_json(report_id: str) -> ResponseReturnValue:
    stored = dashboard().store.get(report_id)
    if stored is None:
        abort(404, description=f"There is no report {report_id!r}")
    view = build_report_view(stored, dashboard().settings)
    return jsonify(
        {
            **_summary(stored),
            "report": stored.report,
            "context": stored.context,
            "grounding_headline": view.grounding_headline,
            "cost": asdict(view.cost),
        }
    )
