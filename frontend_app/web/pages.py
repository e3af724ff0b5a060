"""The pages people open: the dashboard, a report, a report's exports, and the icon."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
)
from flask.typing import ResponseReturnValue

from ..reports.exports import to_html, to_json, to_markdown, to_pdf
from ..reports.view import DISCLAIMER, ReportView, build_report_view
from .dashboard import dashboard

bp = Blueprint("pages", __name__)


def _view(report_id: str) -> ReportView:
    stored = dashboard().store.get(report_id)
    if stored is None:
        abort(404, description=f"There is no report {report_id!r}")
    return build_report_view(stored, dashboard().settings)


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("dashboard.html", models=dashboard().settings.ert_models)


@bp.get("/reports/<report_id>")
def report(report_id: str) -> ResponseReturnValue:
    return render_template("report.html", view=_view(report_id), disclaimer=DISCLAIMER)


@bp.get("/reports/<report_id>.<any(md,html,pdf,json):fmt>")
def export(report_id: str, fmt: str) -> ResponseReturnValue:
    view = _view(report_id)
    name = f"ert-{view.report.ticker}-{view.stored.created_at:%Y%m%d-%H%M}.{fmt}"
    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    if fmt == "json":
        response = jsonify(to_json(view))
        response.headers.update(disposition)
        return response
    if fmt == "md":
        return Response(to_markdown(view), mimetype="text/markdown", headers=disposition)
    if fmt == "html":
        return Response(to_html(view), mimetype="text/html", headers=disposition)
    return Response(to_pdf(view), mimetype="application/pdf", headers=disposition)


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """The icon, also where browsers look for it on pages without an icon link (JSON, PDF)."""
    static = current_app.static_folder or ""
    return send_from_directory(static, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
