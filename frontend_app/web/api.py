"""The JSON API: health, reports, jobs, models and the ticker check."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..errors import ErtError
from ..jobs import JobSpec
from ..market import MarketDataError, Ticker, validate_ticker
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
    """The as-you-type check: the format (no network), and known tickers it may be meant as."""
    try:
        ticker = validate_ticker(request.args.get("q", ""))
    except MarketDataError as exc:
        return jsonify(valid=False, code=exc.code, message=exc.message, suggestions=[])
    return jsonify(valid=True, ticker=ticker, suggestions=dashboard().ticker_suggestions(ticker))


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


@bp.get("/api/jobs/<job_id>")
def job_status(job_id: str) -> ResponseReturnValue:
    jobs = dashboard().jobs
    job = jobs.get(job_id)
    if job is None:
        abort(404, description="That report job is not known (it may have expired)")
    url = url_for("pages.report", report_id=job.report_id) if job.report_id else None
    return jsonify({**job.to_dict(), "url": url, "queue_position": jobs.queue_position(job)})


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
