"""Fact sheet, report inputs and chart series: valid, JSON-safe, stable."""

from __future__ import annotations

import json
from datetime import date

import pytest

from frontend_app.analysis import (
    build_fact_sheet,
    build_report_inputs,
    chart_series,
    compute_metrics,
)
from frontend_app.analysis.charts import moving_average
from frontend_app.analysis.formatting import display, money
from frontend_app.market import CompanyData
from frontend_app.market.snapshots import SnapshotSource
from vast_ai.schemas import ReportRequest


def test_fact_sheet_has_stable_keys_and_display_strings(aapl: CompanyData) -> None:
    facts = build_fact_sheet(aapl, compute_metrics(aapl))
    by_key = {fact.key: fact for fact in facts}
    assert len(by_key) == len(facts)
    revenue = by_key["revenue_fy2024"]
    assert (revenue.value, revenue.display, revenue.unit, revenue.currency, revenue.period) == (
        391035000000,
        "$391.04B",
        "currency",
        "USD",
        "FY2024",
    )
    assert by_key["net_margin"].display == "24.0%"
    assert by_key["net_margin"].period == "FY2024"
    assert by_key["pe_trailing"].unit == "multiple"
    assert "revenue_cagr_3y" not in by_key  # absent metrics are not quotable
    assert "recommendation" not in by_key  # words, not a figure
    assert all(fact.value is not None for fact in facts)


@pytest.mark.parametrize("ticker", SnapshotSource().tickers())
def test_every_fact_carries_its_period(companies: SnapshotSource, ticker: str) -> None:
    company = companies.fetch(ticker)
    for fact in build_fact_sheet(company, compute_metrics(company)):
        assert fact.period, fact.key


def test_report_inputs_say_the_price_history_is_not_current(aapl: CompanyData) -> None:
    _, _, market_data = build_report_inputs(aapl, compute_metrics(aapl))
    history = market_data["price_history"]
    assert history["current"] is False
    assert history["not_current"].startswith("the price history ends 2020-11-06")


@pytest.mark.parametrize("ticker", SnapshotSource().tickers())
def test_report_inputs_make_a_valid_request(companies: SnapshotSource, ticker: str) -> None:
    company = companies.fetch(ticker)
    metrics = compute_metrics(company)
    company_data, financial_data, market_data = build_report_inputs(company, metrics)
    request = ReportRequest(
        ticker=ticker,
        company_data=company_data,
        financial_data=financial_data,
        market_data=market_data,
        fact_sheet=build_fact_sheet(company, metrics),
    )
    assert len(request.model_dump_json()) < 256 * 1024
    assert company_data["source_label"] == company.source_label
    json.dumps(chart_series(company))


def test_report_inputs_say_why_a_figure_is_missing(companies: SnapshotSource) -> None:
    bfly = companies.fetch("BFLY")
    _, financial_data, market_data = build_report_inputs(bfly, compute_metrics(bfly))
    pe = financial_data["metrics"]["valuation"]["pe_trailing"]
    assert pe["value"] is None and pe["unavailable"].startswith("not meaningful")
    assert {gap["part"] for gap in financial_data["gaps"]} >= {"income_annual", "prices"}
    assert market_data["price_history"] is None


def test_chart_series_for_aapl(aapl: CompanyData) -> None:
    charts = chart_series(aapl)
    prices = charts["prices"]
    assert len(prices["dates"]) == len(prices["close"]) == 49
    assert prices["window"] == {
        "start": "2020-08-31",
        "end": "2020-11-06",
        "current": False,
        "note": "the price history ends 2020-11-06, 1,561 days before the as-of date 2025-02-14",
    }
    assert prices["sma50"] == prices["sma200"] == []  # not over a window of another year
    current = chart_series(aapl.model_copy(update={"as_of": date(2020, 11, 9)}))["prices"]
    assert current["window"]["current"] is True and current["window"]["note"] is None
    assert current["sma50"] == [None] * 49  # 49 days: not enough for a 50-day average
    assert charts["annual"]["periods"] == ["FY2022", "FY2023", "FY2024"]
    assert charts["annual"]["revenue"][-1] == 391035000000
    assert charts["margins"]["net"][-1] == pytest.approx(93736000000 / 391035000000)


def test_moving_average() -> None:
    assert moving_average([1, 2, 3, 4], 2) == [None, 1.5, 2.5, 3.5]
    assert moving_average([5], 3) == [None]


@pytest.mark.parametrize(
    "value, unit, currency, shown",
    [
        (391.035e9, "currency", "USD", "$391.04B"),
        (-97.1e6, "currency", "GBP", "-£97.10M"),
        (125.94e9, "currency", "DKK", "DKK 125.94B"),
        (3.67e12, "currency", "USD", "$3.67T"),
        (244.6, "per_share", "USD", "$244.60"),
        (5818.97e9, "currency", "IDR", "IDR 5.82T"),
        (0.2431, "percent", None, "24.3%"),
        (38.81, "multiple", None, "38.8x"),
        (40, "count", None, "40"),
        (1.2, "number", None, "1.20"),
    ],
)
def test_display(value: float, unit: str, currency: str | None, shown: str) -> None:
    assert display(value, unit, currency) == shown  # type: ignore[arg-type]


def test_small_money_is_not_scaled() -> None:
    assert money(1234.5, "EUR") == "€1,234.50"
