"""A stored report whose text is an attack, as a compromised model might write it."""

from __future__ import annotations

from datetime import UTC, datetime

from frontend_app.reports.store import ReportStore
from vast_ai.schemas import ReportRequest, ReportResponse


def store_hostile_report(
    store: ReportStore, markdown: str, rating_summary: str, **metadata: object
) -> str:
    """Save a report whose risks section is `markdown` and rating says `rating_summary`
    (its metadata updated with `metadata`); return its id."""
    now = datetime.now(UTC).isoformat()
    section = {"id": "risks", "title": "Risks", "status": "ok", "markdown": markdown}
    report = {
        "success": True,
        "report_id": "x",
        "ticker": "AAPL",
        "model": "evil:1b",
        "sections": {"risks": section},
        "rating": {"recommendation": "sell", "conviction": "high", "summary": rating_summary},
        "grounding": {},
        "usage": {},
        "metadata": {
            "started_at": now,
            "finished_at": now,
            "generation_time": 1.0,
            "engine": "ollama",
            "prompt_hash": "h",
            "options": {},
            **metadata,
        },
    }
    stored = store.save(
        report=ReportResponse.model_validate(report),
        inputs=ReportRequest(ticker="AAPL", company_data={}, financial_data={}),
        context={"company_name": "Apple Inc.", "charts": {}},
        integration="remote",
    )
    return stored.id
