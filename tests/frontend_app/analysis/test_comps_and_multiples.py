"""The comps table against the recordings, and the multiples valuations by hand."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from frontend_app.analysis import build_report_data
from frontend_app.analysis.multiples import ImpliedValue, history_multiples
from frontend_app.market import CompanyData, PriceHistory
from frontend_app.market.snapshots import SnapshotSource
from tests.fakes.yahoo import quote_summary, raw


def expected_crm() -> dict[str, float]:
    """CRM's comps row straight from its recording (no statements recorded: Yahoo's TTM)."""
    s = quote_summary("CRM")
    fd, ks, sd = s["financialData"], s["defaultKeyStatistics"], s["summaryDetail"]
    price, cap = raw(fd["currentPrice"]), raw(sd["marketCap"])
    return {
        "pe_trailing": price / raw(ks["trailingEps"]),
        "ev_to_ebitda": (cap + raw(fd["totalDebt"]) - raw(fd["totalCash"])) / raw(fd["ebitda"]),
        "price_to_sales": cap / raw(fd["totalRevenue"]),
        "gross_margin": raw(fd["grossMargins"]),
        "operating_margin": raw(fd["operatingMargins"]),
        "net_margin": raw(fd["profitMargins"]),
        "revenue_growth_yoy": raw(fd["revenueGrowth"]),
        "roe": raw(fd["returnOnEquity"]),
    }


@pytest.fixture(scope="module")
def data(aapl: CompanyData, companies: SnapshotSource):
    return build_report_data(aapl, [companies.fetch("CRM"), companies.fetch("EPAC")])


def test_comps_rows_match_the_recordings(data) -> None:
    crm = next(p for p in data.comps.peers if p.ticker == "CRM")
    for key, value in expected_crm().items():
        assert crm.values[key] == pytest.approx(value, rel=1e-6), key
    assert crm.values["roic"] is None and crm.reasons["roic"] == "no EBIT reported"
    assert crm.displays["pe_trailing"] == "51.0x"
    aapl = data.comps.company
    assert aapl.values["pe_trailing"] == pytest.approx(244.6 / 6.30)  # four quarters' EPS


def test_peer_median_and_rank(data) -> None:
    comps = data.comps
    pe = [p.values["pe_trailing"] for p in comps.peers]
    assert comps.median["pe_trailing"] == pytest.approx(statistics.median(pe))
    own = comps.company.values["pe_trailing"]
    assert comps.ranks["pe_trailing"] == 1 + sum(v > own for v in pe)  # 1 = highest
    assert comps.ranked["pe_trailing"] == 3
    table = comps.table()
    assert table.columns[:3] == ["P/E", "EV/EBITDA", "P/S"]
    assert table.rows[0].highlight and table.rows[0].label == "AAPL (Apple Inc.)"
    assert [r.label for r in table.rows[-2:]] == ["Peer median", "Rank of AAPL (1 = highest)"]
    assert all(len(r.cells) == len(table.columns) for r in table.rows)


def test_peer_figures_are_facts_about_the_peer(data) -> None:
    facts = {f.key: f for f in data.facts}
    pe = facts["peer_crm_pe_trailing"]
    assert (pe.subject, pe.label, pe.unit) == ("CRM", "CRM P/E (trailing)", "multiple")
    assert pe.value == pytest.approx(expected_crm()["pe_trailing"])
    assert pe.period == "TTM"
    assert facts["peer_median_pe_trailing"].subject is None
    assert facts["peer_rank_pe_trailing"].label == (
        "AAPL's rank by P/E (trailing) among 3 companies (1 = highest)"
    )
    assert all(f.subject in (None, "CRM", "EPAC") for f in data.facts)


def test_company_valued_at_its_peers_multiples(data, aapl: CompanyData) -> None:
    by_method = {m.method: m for m in data.valuation.peers}
    pe = by_method["P/E vs peers"]
    assert isinstance(pe, ImpliedValue)
    multiples = sorted(p.values["pe_trailing"] for p in data.comps.peers)
    low, mid, high = statistics.quantiles(multiples, n=4, method="inclusive")
    eps = 2.40 + 0.97 + 1.40 + 1.53  # the four quarters to 2024-12-31
    assert (pe.low, pe.mid, pe.high) == pytest.approx((low * eps, mid * eps, high * eps))
    assert pe.basis == "diluted EPS $6.30 (TTM to 2024-12-31)"
    ev = by_method["EV/EBITDA vs peers"]
    assert isinstance(ev, ImpliedValue)
    ebitda = 45912e6 + 32502e6 + 28202e6 + 30736e6
    net_debt = 96799e6 - 53775e6
    shares = aapl.quote.shares_outstanding
    assert ev.mid == pytest.approx((ev.multiple_mid * ebitda - net_debt) / shares)
    ps = by_method["P/S vs peers"]
    revenue = 124300e6 + 94930e6 + 85777e6 + 90753e6
    assert ps.mid == pytest.approx(ps.multiple_mid * revenue / shares)  # type: ignore[union-attr]


def test_own_history_needs_prices_at_fiscal_year_ends(aapl: CompanyData) -> None:
    results = {m.method: m for m in history_multiples(aapl)}
    assert results["P/E vs own history"].reason == (  # type: ignore[union-attr]
        "the price history (2020-08-31 to 2020-11-06) reaches 0 of the fiscal year ends "
        "FY2022-FY2024; needs 2"
    )


def test_own_history_multiples_by_hand(aapl: CompanyData) -> None:
    """AAPL's fiscal year ends with closes of those days (as a live 5-year history has)."""
    closes = {date(2022, 9, 30): 138.20, date(2023, 9, 29): 171.21, date(2024, 9, 30): 233.00}
    prices = PriceHistory(currency="USD", dates=list(closes), close=list(closes.values()))
    company = aapl.model_copy(update={"prices": prices})
    results = {m.method: m for m in history_multiples(company)}
    pe = results["P/E vs own history"]
    assert isinstance(pe, ImpliedValue)
    # FY2022 138.20 / 6.11, FY2023 (2023-09-30 is a Saturday: Friday's close) 171.21 / 6.13,
    # FY2024 233.00 / 6.08
    past = [138.20 / 6.11, 171.21 / 6.13, 233.00 / 6.08]
    low, mid, high = statistics.quantiles(past, n=4, method="inclusive")
    assert (pe.multiple_low, pe.multiple_mid, pe.multiple_high) == pytest.approx((low, mid, high))
    assert pe.mid == pytest.approx(mid * 6.30)
    assert pe.detail == "FY2022 22.6x, FY2023 27.9x, FY2024 38.3x"
    ps = results["P/S vs own history"]
    assert isinstance(ps, ImpliedValue)
    # market cap at each year end (close x that year's share count) over that year's revenue
    past = [
        138.20 * 15943425000 / 394328000000,
        171.21 * 15550061000 / 383285000000,
        233.00 * 15116786000 / 391035000000,
    ]
    expected = statistics.quantiles(past, n=4, method="inclusive")
    assert [ps.multiple_low, ps.multiple_mid, ps.multiple_high] == pytest.approx(expected)
