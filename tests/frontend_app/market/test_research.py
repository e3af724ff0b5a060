"""Estimates, surprises, ratings, insiders, ownership, calendar and filings through yfinance."""

from __future__ import annotations

from datetime import date

import pytest

from frontend_app.market import MarketDataService
from frontend_app.market.normalise_research import (
    MAX_FILINGS,
    MAX_RATING_CHANGES,
    estimate_period_end,
    estimates_from_frames,
)
from frontend_app.market.research import ESTIMATE_PERIODS
from tests.fakes.yahoo import (
    YFINANCE_PANDAS_NOISE,
    YahooReplay,
    quote_summary,
    raw,
    recorded_tickers,
)

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


def info_dates(ticker: str) -> dict:
    """The fiscal-calendar fields of yfinance's info, as plain epoch seconds."""
    stats = quote_summary(ticker)["defaultKeyStatistics"]
    return {key: raw(stats.get(key)) for key in ("nextFiscalYearEnd", "mostRecentQuarter")}


TRENDS = [t for t in recorded_tickers() if "earningsTrend" in quote_summary(t)]


@pytest.mark.parametrize("ticker", TRENDS)
def test_derived_period_ends_match_yahoos_end_dates(ticker: str) -> None:
    """yfinance drops earningsTrend's endDate; the fiscal calendar gives it back."""
    info = info_dates(ticker)
    for trend in quote_summary(ticker)["earningsTrend"]["trend"]:
        if trend.get("endDate") is None:
            continue
        end = estimate_period_end(trend["period"], info)
        recorded = date.fromisoformat(trend["endDate"])
        # Yahoo names the period by its calendar month; OCDO.L's year ends on a Sunday.
        assert end is not None and (end.year, end.month) == (recorded.year, recorded.month), trend[
            "period"
        ]


def test_aapl_estimates_are_read_from_the_recording(live: MarketDataService) -> None:
    research = live.get_company("AAPL").research
    recorded = {t["period"]: t for t in quote_summary("AAPL")["earningsTrend"]["trend"]}
    assert [e.period for e in research.estimates] == list(ESTIMATE_PERIODS)
    for estimate in research.estimates:
        trend = recorded[estimate.period]
        eps, revenue = trend["earningsEstimate"], trend["revenueEstimate"]
        assert estimate.currency == "USD"
        assert estimate.eps_avg == pytest.approx(raw(eps["avg"]))
        assert estimate.eps_analysts == raw(eps["numberOfAnalysts"])
        assert estimate.eps_growth == pytest.approx(raw(eps["growth"]))
        assert estimate.revenue_avg == pytest.approx(raw(revenue["avg"]))
        assert estimate.revenue_growth == pytest.approx(raw(revenue["growth"]))
        assert estimate.eps_90d_ago == pytest.approx(raw(trend["epsTrend"]["90daysAgo"]))
        assert estimate.revisions_down_30d == raw(trend["epsRevisions"]["downLast30days"])
    year = research.estimates[2]
    assert (year.period, year.end) == ("0y", date(2025, 9, 30))
    assert year.eps_year_ago == pytest.approx(6.08)  # FY2024's diluted EPS


def test_aapl_surprises_ratings_insiders_calendar_and_filings(live: MarketDataService) -> None:
    company = live.get_company("AAPL")
    research = company.research
    history = quote_summary("AAPL")["earningsHistory"]["history"]
    assert [s.quarter_end.isoformat() for s in research.earnings_history] == [
        h["quarter"]["fmt"] for h in history
    ]
    latest = research.earnings_history[-1]
    assert (latest.eps_actual, latest.eps_estimate) == (2.4, pytest.approx(2.34102))
    assert latest.surprise == pytest.approx(raw(history[-1]["surprisePercent"]))

    trend = quote_summary("AAPL")["recommendationTrend"]["trend"][0]
    now = research.recommendation_trend[0]
    assert now.months_ago == 0
    assert (now.strong_buy, now.buy, now.hold, now.sell, now.strong_sell) == (
        trend["strongBuy"],
        trend["buy"],
        trend["hold"],
        trend["sell"],
        trend["strongSell"],
    )

    changes = research.rating_changes
    assert len(changes) == MAX_RATING_CHANGES  # Yahoo sends hundreds; the newest are kept
    assert changes == sorted(changes, key=lambda c: c.date, reverse=True)
    assert (changes[0].firm, changes[0].to_grade) == ("Citigroup", "Buy")

    activity = quote_summary("AAPL")["netSharePurchaseActivity"]
    assert research.insider_activity is not None
    assert research.insider_activity.period == "6m"
    assert research.insider_activity.net_shares == raw(activity["netInfoShares"])
    assert research.insider_activity.sell_count == raw(activity["sellInfoCount"])
    breakdown = quote_summary("AAPL")["majorHoldersBreakdown"]
    assert research.ownership is not None
    assert research.ownership.institutions == pytest.approx(
        raw(breakdown["institutionsPercentHeld"])
    )
    assert research.ownership.insiders == pytest.approx(raw(breakdown["insidersPercentHeld"]))
    assert research.insider_trades[0].insider == "LEVINSON ARTHUR D"

    assert research.calendar is not None
    assert research.calendar.earnings_dates == [date(2025, 4, 30), date(2025, 5, 5)]
    assert len(research.filings) == MAX_FILINGS
    assert research.filings[0].type == "10-Q"
    assert all(f.url is None or f.url.startswith("https://") for f in research.filings)
    assert not company.gaps


def test_modules_yahoo_does_not_send_are_named_gaps(live: MarketDataService) -> None:
    orsted = live.get_company("ORSTED.CO")  # no SEC filings, no rating history
    gaps = {gap.part: gap for gap in orsted.gaps}
    assert gaps["sec_filings"].reason == "Yahoo Finance has no SEC filings"
    assert gaps["rating_changes"].reason == "Yahoo Finance has no rating changes"
    assert not gaps["sec_filings"].retryable
    assert orsted.research.filings == [] and orsted.research.rating_changes == []
    assert orsted.research.estimates[0].currency == "DKK"


def test_estimates_without_analysts_are_no_estimates(live: MarketDataService) -> None:
    """Yahoo fills OCDO.L's quarters with zeros and no analyst: they are left out."""
    research = live.get_company("OCDO.L").research
    assert [e.period for e in research.estimates] == ["0y", "+1y"]
    assert research.estimates[0].currency == "GBP"
    assert research.estimates[0].eps_avg is not None and research.estimates[0].eps_avg < 0


def test_a_failing_research_part_is_a_gap_not_a_failure(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    yahoo.fail("quoteSummary", status=500, module="earningsTrend")
    company = live.get_company("AAPL")
    gaps = {gap.part: gap for gap in company.gaps}
    assert set(gaps) == {"estimates"}
    assert gaps["estimates"].retryable
    assert company.research.estimates == []
    assert company.research.earnings_history  # the other parts arrived


def test_minor_currency_estimates_become_major() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"avg": [250.0], "numberOfAnalysts": [3], "currency": ["GBp"]}, index=["0y"]
    )
    estimates = estimates_from_frames({"earnings_estimate": frame}, {})
    assert (estimates[0].currency, estimates[0].eps_avg, estimates[0].end) == ("GBP", 2.5, None)
