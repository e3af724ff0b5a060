"""The JSON API: health, reports, jobs, models and the ticker check."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from ..jobs import JobSpec
from ..market import MarketDataError, validate_ticker
from ..report_view import build_report_view
from ..services import dashboard
from ..ticker_input import TickerInputError, parse_generate_payload
from ..version import __version__
from .errors import error_response

bp = Blueprint("api", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Always 200 (Render restarts a service that fails it), with the GPU tier's state inside."""
    return jsonify(
        status="ok",
        timestamp=datetime.now(UTC).isoformat(),
        version=__version__,
        backend=dashboard().backend_status(),
    )


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
    data = request.get_json(silent=True)
    try:
        ticker, model = parse_generate_payload(data, dashboard())
    except TickerInputError as exc:
        return error_response(400, exc.code, exc.message)
    job = dashboard().jobs.submit(JobSpec(ticker=ticker, model=model))
    return jsonify(job_id=job.id), 202


@bp.post("/api/reports/<report_id>/regenerate")
def regenerate(report_id: str) -> ResponseReturnValue:
    """Write a stored report again from its stored inputs, with the same model and options."""
    stored = dashboard().store.get(report_id)
    if stored is None:
        abort(404, description=f"There is no report {report_id!r}")
    spec = JobSpec(ticker=stored.ticker, model=stored.model, regenerate_from=stored.id)
    job = dashboard().jobs.submit(spec)
    return jsonify(job_id=job.id, url=f"/?job={job.id}"), 202


@bp.get("/api/jobs/<job_id>")
def job_status(job_id: str) -> ResponseReturnValue:
    jobs = dashboard().jobs
    job = jobs.get(job_id)
    if job is None:
        abort(404, description="That report job is not known (it may have expired)")
    return jsonify({**job.to_dict(), "queue_position": jobs.queue_position(job)})


@bp.get("/api/reports")
def history() -> ResponseReturnValue:
    """Newest first."""
    limit = request.args.get("limit", default=50, type=int)
    reports = dashboard().store.recent(limit=max(1, min(limit, 200)))
    return jsonify(reports=[r.summary() for r in reports])


@bp.get("/api/reports/<report_id>")
def report_json(report_id: str) -> ResponseReturnValue:
    stored = dashboard().store.get(report_id)
    if stored is None:
        abort(404, description=f"There is no report {report_id!r}")
    view = build_report_view(stored, dashboard().settings)
    return jsonify(
        {
            **stored.summary(),
            "report": stored.report,
            "context": stored.context,
            "grounding_headline": view.grounding_headline,
            "cost": asdict(view.cost),
        }
    )
