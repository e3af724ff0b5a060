"""Finished reports, stored with SQLAlchemy in the dashboard's database (frontend_app.database).

A stored report keeps everything needed to show it and to write it again: the
GPU tier's `ReportResponse`, the exact `ReportRequest` it was written from (inputs,
model, options with the seed) and the page context (price, data source, charts).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Float, String, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from vast_ai.schemas import ReportRequest, ReportResponse

from ..database import Base


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(12), index=True)
    company_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    model: Mapped[str] = mapped_column(String(100))
    integration: Mapped[str] = mapped_column(String(20))
    recommendation: Mapped[str] = mapped_column(String(20))
    generation_time: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)


@dataclass(frozen=True)
class StoredReport:
    id: str
    ticker: str
    company_name: str
    created_at: datetime
    model: str
    integration: str
    recommendation: str
    generation_time: float
    report: dict[str, Any]
    inputs: dict[str, Any]
    context: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The fields the history list shows."""
        return {
            "id": self.id,
            "ticker": self.ticker,
            "company_name": self.company_name,
            "created_at": self.created_at.isoformat(),
            "model": self.model,
            "integration": self.integration,
            "recommendation": self.recommendation,
            "generation_time": self.generation_time,
        }


def _stored(row: ReportRow) -> StoredReport:
    created = row.created_at
    if created.tzinfo is None:  # SQLite drops the zone
        created = created.replace(tzinfo=UTC)
    return StoredReport(
        id=row.id,
        ticker=row.ticker,
        company_name=row.company_name,
        created_at=created,
        model=row.model,
        integration=row.integration,
        recommendation=row.recommendation,
        generation_time=row.generation_time,
        report=row.report,
        inputs=row.inputs,
        context=row.context,
    )


class ReportStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def save(
        self,
        *,
        report: ReportResponse,
        inputs: ReportRequest,
        context: dict[str, Any],
        integration: str,
    ) -> StoredReport:
        row = ReportRow(
            id=uuid.uuid4().hex,
            ticker=report.ticker,
            company_name=str(context.get("company_name") or report.ticker)[:200],
            created_at=datetime.now(UTC),
            model=report.model,
            integration=integration,
            recommendation=report.rating.recommendation,
            generation_time=report.metadata.generation_time,
            report=report.model_dump(mode="json"),
            inputs=inputs.model_dump(mode="json"),
            context=context,
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _stored(row)

    def get(self, report_id: str) -> StoredReport | None:
        with self._sessions() as session:
            row = session.get(ReportRow, report_id)
            return _stored(row) if row is not None else None

    def recent(self, limit: int = 50) -> list[StoredReport]:
        """Newest first."""
        query = select(ReportRow).order_by(ReportRow.created_at.desc()).limit(limit)
        with self._sessions() as session:
            return [_stored(row) for row in session.scalars(query)]

    @property
    def engine(self) -> Engine:
        """The database, for the dashboard's other tables (accounts, jobs)."""
        return self._engine

    def dispose(self) -> None:
        self._engine.dispose()
