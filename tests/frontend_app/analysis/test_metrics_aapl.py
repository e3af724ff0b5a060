"""AAPL's metrics against hand calculations straight from the recorded Yahoo JSON."""

from __future__ import annotations

import itertools
import math
from datetime import date

import pytest

from frontend_app.analysis import compute_metrics
from frontend_app.market import CompanyData
from tests.fakes.yahoo import fundamentals, quote_summary, recording

QUOTE = recording("quote-AAPL.json")["quoteResponse"]["result"][0]
SUMMARY = quote_summary("AAPL")
PRICE = QUOTE["regularMarketPrice"]  # 244.6
MARKET_CAP = QUOTE["marketCap"]
LAST_QUARTER = "2024-12-31"
FY2024, FY2023 = "2024-09-30", "2023-09-30"


def series(frequency: str, name: str) -> dict[str, float]:
    """{period end: value} of one AAPL fundamentals series, e.g. ("annual", "TotalRevenue")."""
    return fundamentals("AAPL", frequency, name)


def four_quarters(name: str) -> float:
    values = series("quarterly", name)
    assert len(values) == 4
    return sum(values.values())


def annual(name: str, end: str = FY2024) -> float:
    return series("annual", name)[end]


def quarter_end(name: str) -> float:
    return series("quarterly", name)[LAST_QUARTER]


def adjusted_closes() -> list[float]:
    chart = recording("chart-AAPL-2020-08-31-to-2020-11-07.json")["chart"]["result"][0]
    return chart["indicators"]["adjclose"][0]["adjclose"]


@pytest.fixture(scope="module")
def metrics(aapl: CompanyData):
    return compute_metrics(aapl)


def check(metrics, key: str, expected: float, period: str | None = None) -> None:
    metric = metrics[key]
    assert metric.value == pytest.approx(expected, rel=1e-6), key
    if period is not None:
        assert metric.period == period


def test_overview(metrics) -> None:
    check(metrics, "price", 244.6)
    check(metrics, "market_cap", MARKET_CAP)
    check(metrics, "revenue_ttm", four_quarters("TotalRevenue"), "TTM to 2024-12-31")
    check(metrics, "eps_ttm", four_quarters("DilutedEPS"))


def test_valuation(metrics) -> None:
    eps = four_quarters("DilutedEPS")
    check(metrics, "pe_trailing", PRICE / eps, "TTM to 2024-12-31")
    check(metrics, "pe_forward", PRICE / SUMMARY["defaultKeyStatistics"]["forwardEps"])
    growth = SUMMARY["financialData"]["earningsGrowth"]
    check(metrics, "peg", PRICE / eps / (growth * 100))
    check(metrics, "price_to_sales", MARKET_CAP / four_quarters("TotalRevenue"))
    book_per_share = quarter_end("StockholdersEquity") / quarter_end("OrdinarySharesNumber")
    check(metrics, "price_to_book", PRICE / book_per_share, "as of 2024-12-31")
    ev = (
        MARKET_CAP
        + quarter_end("TotalDebt")
        - quarter_end("CashCashEquivalentsAndShortTermInvestments")
    )
    check(metrics, "enterprise_value", ev)
    check(metrics, "ev_to_ebitda", ev / four_quarters("EBITDA"))
    check(metrics, "ev_to_revenue", ev / four_quarters("TotalRevenue"))
    check(metrics, "fcf_yield", four_quarters("FreeCashFlow") / MARKET_CAP)
    check(metrics, "dividend_yield", QUOTE["dividendYield"] / 100)  # 0.41 % -> 0.0041
    check(metrics, "payout_ratio", SUMMARY["summaryDetail"]["payoutRatio"])


def test_growth(metrics) -> None:
    check(
        metrics,
        "revenue_growth_yoy",
        annual("TotalRevenue") / annual("TotalRevenue", FY2023) - 1,
        "FY2024 vs FY2023",
    )
    check(metrics, "eps_growth_yoy", annual("DilutedEPS") / annual("DilutedEPS", FY2023) - 1)
    assert not metrics["revenue_cagr_3y"].present
    assert metrics["revenue_cagr_3y"].reason == "needs 4 fiscal years; Yahoo Finance has 3"


def test_profitability(metrics) -> None:
    revenue = annual("TotalRevenue")
    check(metrics, "gross_margin", annual("GrossProfit") / revenue, "FY2024")
    check(metrics, "operating_margin", annual("OperatingIncome") / revenue)
    check(metrics, "net_margin", annual("NetIncome") / revenue)
    check(metrics, "roe", annual("NetIncome") / annual("StockholdersEquity"))
    check(metrics, "roa", annual("NetIncome") / annual("TotalAssets"))
    tax_rate = annual("TaxProvision") / annual("PretaxIncome")
    check(metrics, "roic", annual("EBIT") * (1 - tax_rate) / annual("InvestedCapital"))


def test_balance_sheet_and_cash_flow(metrics) -> None:
    check(metrics, "debt_to_equity", quarter_end("TotalDebt") / quarter_end("StockholdersEquity"))
    check(
        metrics,
        "net_debt",
        quarter_end("TotalDebt") - quarter_end("CashCashEquivalentsAndShortTermInvestments"),
    )
    check(
        metrics, "current_ratio", quarter_end("CurrentAssets") / quarter_end("CurrentLiabilities")
    )
    assert metrics["interest_coverage"].reason == "no interest expense reported for FY2024"
    revenue = four_quarters("TotalRevenue")
    check(metrics, "free_cash_flow", four_quarters("FreeCashFlow"))
    check(metrics, "fcf_margin", four_quarters("FreeCashFlow") / revenue)
    check(metrics, "capex_to_revenue", abs(four_quarters("CapitalExpenditure")) / revenue)


def test_market_position(metrics) -> None:
    low, high = QUOTE["fiftyTwoWeekLow"], QUOTE["fiftyTwoWeekHigh"]
    check(metrics, "position_in_52w_range", (PRICE - low) / (high - low))
    check(metrics, "beta", SUMMARY["defaultKeyStatistics"]["beta"])


def test_prices_of_another_year_give_no_current_returns(metrics) -> None:
    """The snapshot's prices end in 2020 beside a 2025 quote: not mixed (issue 9)."""
    stale = (
        "not computed: the price history ends 2020-11-06, 1,561 days before the as-of "
        "date 2025-02-14"
    )
    for key in ("return_1m", "return_3m", "return_6m", "return_1y", "volatility"):
        assert metrics[key].value is None
        assert metrics[key].reason == stale, key
    assert metrics["max_drawdown"].reason == stale


def test_returns_and_risk_over_a_current_window(aapl: CompanyData) -> None:
    """The same prices, with the as-of date at their end, against the recording."""
    metrics = compute_metrics(aapl.model_copy(update={"as_of": date(2020, 11, 6)}))
    closes = adjusted_closes()
    assert len(closes) == 49
    check(metrics, "return_1m", closes[-1] / closes[-22] - 1, "2020-10-08 to 2020-11-06")
    assert metrics["return_3m"].reason == "needs 64 trading days of prices; have 49"
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    check(metrics, "volatility", std * math.sqrt(252))
    drawdown = min(c / max(closes[: i + 1]) - 1 for i, c in enumerate(closes))
    check(metrics, "max_drawdown", drawdown)


def test_analysts(metrics) -> None:
    financial = SUMMARY["financialData"]
    check(metrics, "target_mean", financial["targetMeanPrice"])
    check(metrics, "target_high", financial["targetHighPrice"])
    check(metrics, "target_low", financial["targetLowPrice"])
    check(metrics, "upside_to_mean", financial["targetMeanPrice"] / PRICE - 1)
    check(metrics, "analyst_count", financial["numberOfAnalystOpinions"])
    assert metrics["recommendation"].text == "Buy"
    assert metrics["recommendation"].display == "Buy"


def test_display_strings(metrics) -> None:
    assert metrics["revenue_ttm"].display == "$395.76B"
    assert metrics["net_margin"].display == "24.0%"
    assert metrics["pe_trailing"].display == "38.8x"
    assert metrics["price"].display == "$244.60"
    assert metrics["market_cap"].display == "$3.67T"
