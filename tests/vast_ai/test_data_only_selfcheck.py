"""The data-only writer's text passes ERT's own figure check: for every bundled company,
the report written from the fact sheet the real pipeline builds (with its bundled-sector
peers) has every figure verified by its metric, and no section failed the check."""

from __future__ import annotations

import asyncio
import re

import pytest

from frontend_app.analysis import build_report_data
from frontend_app.market import PeerSet
from frontend_app.market.snapshots import SnapshotSource
from vast_ai.engines.data_only import DataOnlyEngine
from vast_ai.schemas import ReportRequest, ReportResponse
from vast_ai.writer import ReportWriter

COMPANIES = SnapshotSource()
_BULLET = re.compile(r"^- ", re.MULTILINE)
MAX_BULLETS = 70  # a section a reader can take in, in groups under their headings
MAX_GROUP = 30


def _request(ticker: str) -> ReportRequest:
    company = COMPANIES.fetch(ticker)
    sector = COMPANIES.same_sector(company.profile.sector, company.ticker)
    peers = PeerSet(
        selection="sector" if sector else "none",
        note="bundled sector peers",
        companies=[COMPANIES.fetch(t) for t in sector],
    )
    data = build_report_data(company, peers)
    company_data, financial_data, market_data = data.report_inputs()
    return ReportRequest(
        ticker=company.ticker,
        company_data=company_data,
        financial_data=financial_data,
        market_data=market_data,
        fact_sheet=data.facts,
    )


@pytest.fixture(scope="module", params=COMPANIES.tickers())
def report(request: pytest.FixtureRequest) -> ReportResponse:
    writer = ReportWriter(DataOnlyEngine(), concurrency_limit=2)
    return asyncio.run(writer.write(_request(request.param), "data-only"))


def test_every_figure_of_the_data_only_text_verifies_by_its_metric(
    report: ReportResponse,
) -> None:
    failing = [
        f"{sid}: {figure.text!r} {figure.status}/{figure.basis}: {figure.note}"
        for sid, section in report.sections.items()
        for figure in section.grounding.figures
        if figure.status != "verified" or figure.basis != "metric"
    ]
    assert not failing, "\n".join(failing)
    assert {sid: s.status for sid, s in report.sections.items()} == dict.fromkeys(
        report.sections, "ok"
    )
    assert report.grounding.found > 50


def test_each_fact_is_stated_once_with_its_period_once(report: ReportResponse) -> None:
    for sid, section in report.sections.items():
        assert len(_BULLET.findall(section.markdown)) <= MAX_BULLETS, sid
        for group in section.markdown.split("\n\n"):
            assert len(_BULLET.findall(group)) <= MAX_GROUP, (sid, group[:80])
        for line in section.markdown.splitlines():
            periods = re.findall(r"\(([^()]*(?:\([^()]*\))?[^()]*)\)", line)
            assert len(periods) == len(set(periods)), line
