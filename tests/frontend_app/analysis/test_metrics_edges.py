"""Loss-makers, pence, mixed currencies, thin data: absent with a reason, never nonsense."""

from __future__ import annotations

import pytest

from frontend_app.analysis import METRIC_DEFINITIONS, compute_metrics
from frontend_app.market.snapshots import SnapshotSource
from tests.fakes.yahoo import quote_summary

BUNDLED = SnapshotSource().tickers()


@pytest.mark.parametrize("ticker", BUNDLED)
def test_every_metric_has_a_value_or_a_reason(companies: SnapshotSource, ticker: str) -> None:
    metrics = compute_metrics(companies.fetch(ticker))
    assert [m.key for m in metrics] == list(METRIC_DEFINITIONS)
    for metric in metrics:
        assert metric.present or metric.reason, metric.key
        assert not (metric.present and metric.reason), metric.key


def test_loss_maker_has_no_pe_but_says_why(companies: SnapshotSource) -> None:
    metrics = compute_metrics(companies.fetch("BFLY"))
    for key in ("pe_trailing", "peg"):
        assert metrics[key].value is None
        assert metrics[key].reason == "not meaningful: earnings per share are negative (-0.47)"
    assert metrics["pe_forward"].reason == (
        "not meaningful: earnings per share are negative (-0.33)"
    )
    assert metrics["payout_ratio"].reason == "not meaningful: net income is negative"
    assert metrics["ev_to_ebitda"].value is None
    assert metrics["net_income_ttm"].value == pytest.approx(-98512000)
    assert metrics["net_income_ttm"].display == "-$98.51M"


def test_pence_quote_gives_a_sane_price_to_book(companies: SnapshotSource) -> None:
    summary = quote_summary("OCDO.L")
    yahoo_ratio = summary["defaultKeyStatistics"]["priceToBook"]  # pence over pounds: 185
    book = summary["defaultKeyStatistics"]["bookValue"]
    company = companies.fetch("OCDO.L")
    metrics = compute_metrics(company)
    assert metrics["price_to_book"].value == pytest.approx(company.quote.price / book)
    assert metrics["price_to_book"].value == pytest.approx(yahoo_ratio / 100, rel=0.01)
    assert metrics["target_mean"].display == "£4.41"
    assert metrics["market_cap"].display == "£2.55B"


def test_mixed_currencies_refuse_cross_currency_ratios(companies: SnapshotSource) -> None:
    metrics = compute_metrics(companies.fetch("BABA"))
    reason = "prices are in USD but financials in CNY"
    for key in ("pe_trailing", "price_to_sales", "ev_to_ebitda", "fcf_yield"):
        assert metrics[key].value is None
        assert metrics[key].reason == reason
    assert metrics["revenue_ttm"].currency == "CNY"
    assert metrics["revenue_ttm"].display.startswith("CN¥")
    assert metrics["target_mean"].currency == "USD"


def test_each_company_is_shown_in_its_own_currency(companies: SnapshotSource) -> None:
    metrics = compute_metrics(companies.fetch("ORSTED.CO"))
    assert metrics["price"].currency == "DKK"
    assert metrics["price"].display.startswith("DKK ")
    assert metrics["market_cap"].display.endswith("B")
