"""Estimates as dated facts, tables and charts; the whole report's data for every company."""

from __future__ import annotations

import json

import pytest

from frontend_app.analysis import build_report_data
from frontend_app.analysis.estimates import estimates_view
from frontend_app.market import CompanyData, PeerSet
from frontend_app.market.snapshots import SnapshotSource
from vast_ai.schemas import ReportRequest

BUNDLED = SnapshotSource().tickers()


def test_estimates_are_facts_of_their_fiscal_period(aapl: CompanyData) -> None:
    view = estimates_view(aapl)
    facts = {f.key: f for f in view.facts}
    eps = facts["eps_estimate_fy2025"]
    assert (eps.value, eps.display, eps.period, eps.currency) == (7.3157, "$7.32", "FY2025", "USD")
    assert eps.label == "Consensus EPS estimate (FY2025)"
    assert facts["revenue_estimate_growth_fy2026"].value == pytest.approx(0.081)
    assert facts["eps_estimate_q2025_03"].period == "quarter to 2025-03"
    assert facts["eps_revisions_down_30d_fy2025"].value == 17
    assert facts["eps_estimate_change_90d_fy2025"].value == pytest.approx(7.3157 / 7.38984 - 1)
    assert facts["eps_surprise_q2024_12"].value == pytest.approx(0.0252)
    assert facts["eps_actual_q2024_12"].display == "$2.40"
    assert facts["analysts_buy"].value == 21
    assert facts["rating_downgrades_90d"].period == "90 days to 2025-02-14"
    assert facts["insider_net_shares_6m"].value == 242451
    assert facts["insider_net_shares_6m"].period == "6 months to 2025-02-14"
    assert facts["institutional_ownership"].display == "62.7%"
    assert facts["next_earnings_date"].display == "2025-04-30 to 2025-05-05"
    assert facts["next_earnings_date"].value is None
    assert view.next_earnings == "2025-04-30 to 2025-05-05"


def test_estimate_charts_are_series(aapl: CompanyData) -> None:
    charts = estimates_view(aapl).charts
    revisions = charts["estimate_revisions"]
    assert revisions["labels"] == ["90 days ago", "60 days ago", "30 days ago", "7 days ago", "now"]
    fy2025 = next(s for s in revisions["series"] if s["label"] == "FY2025")
    assert fy2025["values"] == [7.38984, 7.38756, 7.36708, 7.33325, 7.3157]
    surprises = charts["eps_surprises"]
    assert surprises["quarters"][-1] == "quarter to 2024-12"
    assert surprises["actual"] == [1.53, 1.4, 0.97, 2.4]
    assert charts["recommendations"]["labels"][-1] == "this month"
    assert charts["recommendations"]["buy"][-1] == 21


def test_a_past_earnings_date_is_not_the_next_one(companies: SnapshotSource) -> None:
    spot = companies.fetch("SPOT")  # Yahoo's calendar still shows 2025-02-04 on 2025-02-14
    view = estimates_view(spot)
    assert view.next_earnings is None
    assert "next_earnings_date" not in {f.key for f in view.facts}


@pytest.fixture(scope="module", params=BUNDLED)
def report(request, companies: SnapshotSource):
    """Each bundled company with its offline peers (the bundled companies of its sector)."""
    company = companies.fetch(request.param)
    sector = companies.same_sector(company.profile.sector, company.ticker)
    peers = PeerSet(
        selection="sector" if sector else "none",
        note="test peers",
        companies=[companies.fetch(t) for t in sector],
    )
    return build_report_data(company, peers)


def test_every_fact_is_unique_dated_and_fits_the_wire(report) -> None:
    keys = [f.key for f in report.facts]
    assert len(keys) == len(set(keys))
    for fact in report.facts:
        assert fact.period, fact.key
    company_data, financial_data, market_data = report.report_inputs()
    request = ReportRequest(
        ticker=report.company.ticker,
        company_data=company_data,
        financial_data=financial_data,
        market_data=market_data,
        fact_sheet=report.facts,
    )
    assert len(request.model_dump_json()) < 256 * 1024


def test_every_table_and_chart_renders_as_is(report) -> None:
    for table in report.tables:
        assert table.rows or table.key in ("estimates",), table.key
        for row in table.rows:
            assert len(row.cells) == len(table.columns), table.key
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["valuation"]["football_field"]["currency"] == report.company.quote.currency
    assert {"prices", "annual", "margins", "football_field", "comps"} <= set(report.charts)
    for note in report.notes:
        assert note and not note.endswith(": ")


def test_a_peer_of_another_date_is_left_out(aapl: CompanyData, companies: SnapshotSource) -> None:
    old = companies.fetch("CRM").model_copy(update={"as_of": aapl.as_of.replace(year=2024)})
    data = build_report_data(aapl, [old, companies.fetch("EPAC"), aapl])
    assert data.peers.tickers == ["EPAC"]
    assert {item.ticker: item.reason for item in data.peers.left_out} == {
        "CRM": "its data is as of 2024-02-14, 366 days from the company's (2025-02-14)",
        "AAPL": "it is the company itself",
    }
    assert "Peer CRM left out: its data is as of 2024-02-14" in " ".join(data.notes)


def test_sources_name_module_and_period(aapl: CompanyData) -> None:
    sources = {s.group: s for s in build_report_data(aapl).sources}
    assert sources["Income statement"].period == "FY2022 to FY2024; quarters to 2024-12-31"
    assert sources["Estimates and revisions"].source == "Yahoo Finance earningsTrend"
    assert sources["Estimates and revisions"].period == (
        "quarter to 2025-03, quarter to 2025-06, FY2025, FY2026"
    )
    assert sources["Price history"].period.endswith(
        "(not current: not used for returns, volatility or averages)"
    )
    assert sources["Peers"].period == "no peers"
    filings = build_report_data(aapl).filings
    assert filings[0].type == "10-Q" and filings[0].url.startswith("https://")  # type: ignore[union-attr]
