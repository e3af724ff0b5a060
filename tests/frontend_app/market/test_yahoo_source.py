"""The live path: recorded Yahoo answers replayed through the real yfinance."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from pathlib import Path

import pytest
import requests

from frontend_app.market import (
    DataSourceUnreachable,
    InvalidTicker,
    MarketDataError,
    MarketDataService,
    NotAnEquity,
    RateLimited,
    UnknownTicker,
    validate_ticker,
)
from frontend_app.market.company import STATEMENT_PARTS
from frontend_app.market.normalise_research import RESEARCH_PARTS
from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, YahooReplay, recording

EQUITIES = ["AAPL", "ABBV", "BABA", "BFLY", "CRM", "CRON", "EPAC", "OCDO.L", "ORSTED.CO", "SPOT"]

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


@pytest.mark.parametrize("ticker", EQUITIES)
def test_every_recorded_equity_loads_with_named_gaps(live: MarketDataService, ticker: str) -> None:
    company = live.get_company(ticker)
    assert company.ticker == ticker
    assert company.source == "yfinance"
    assert company.profile.quote_type == "EQUITY"
    assert company.quote.price and company.quote.price > 0
    assert company.source_label == f"Yahoo Finance as of {company.as_of.isoformat()}"
    for gap in company.gaps:
        assert gap.part in {"prices", *STATEMENT_PARTS, *RESEARCH_PARTS}
        assert gap.part not in company.statements
        assert gap.reason
    json.dumps(company.to_dict())  # JSON-safe


def test_aapl_has_every_part(live: MarketDataService) -> None:
    company = live.get_company("AAPL")
    assert company.gaps == []
    assert set(company.statements) == {
        "income_annual",
        "income_quarterly",
        "balance_annual",
        "balance_quarterly",
        "cashflow_annual",
        "cashflow_quarterly",
    }
    income = company.statements["income_annual"]
    assert income.currency == "USD"
    assert income.periods[0].isoformat() == "2024-09-30"
    assert income.value("TotalRevenue") == 391035000000
    assert company.prices is not None and len(company.prices.close) == 49
    assert company.statistics.dividend_yield == pytest.approx(0.0041)
    assert company.statistics.debt_to_equity == pytest.approx(1.45)
    assert company.profile.name == "Apple Inc."


def test_london_quote_in_pence_is_held_in_pounds(live: MarketDataService) -> None:
    quote_json = recording("quote-OCDO.L.json")["quoteResponse"]["result"][0]
    assert quote_json["currency"] == "GBp"
    company = live.get_company("OCDO.L")
    assert company.quote.currency == "GBP"
    assert company.quote.price == pytest.approx(quote_json["regularMarketPrice"] / 100)
    assert company.quote.market_cap == quote_json["marketCap"]  # Yahoo sends it in pounds
    assert company.statistics.financial_currency == "GBP"
    assert company.prices is not None and company.prices.currency == "GBP"
    assert company.prices.close[0] < 20  # pounds, not ~1,200 pence


def test_each_company_keeps_its_own_currencies(live: MarketDataService) -> None:
    orsted = live.get_company("ORSTED.CO")
    assert orsted.quote.currency == "DKK"
    assert orsted.statements["income_quarterly"].currency == "DKK"
    baba = live.get_company("BABA")
    assert (baba.quote.currency, baba.statistics.financial_currency) == ("USD", "CNY")
    assert baba.statements["income_quarterly"].currency == "CNY"


def test_loss_maker_keeps_negative_figures(live: MarketDataService) -> None:
    bfly = live.get_company("BFLY")
    assert bfly.statistics.trailing_eps == -0.47
    assert bfly.statistics.net_income_ttm is not None and bfly.statistics.net_income_ttm < 0
    assert "prices" in {gap.part for gap in bfly.gaps}  # no chart recorded for BFLY


@pytest.mark.parametrize(
    "ticker, kind",
    [
        ("QQQ", "an ETF"),
        ("BTC-USD", "a cryptocurrency"),
        ("EURUSD=X", "a currency"),
        ("GC=F", "a futures contract"),
        ("WSKT.JK", "a mutual fund"),
    ],
)
def test_non_equities_are_refused_by_quote_type(
    live: MarketDataService, ticker: str, kind: str
) -> None:
    with pytest.raises(NotAnEquity) as caught:
        live.get_company(ticker)
    assert caught.value.message == f"ERT writes equity research; {ticker} is {kind}"
    assert caught.value.code == "not_an_equity"


def test_unknown_ticker_is_named_and_gets_suggestions(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    search = {
        "quotes": [
            {"symbol": "XYZ", "quoteType": "EQUITY"},
            {"symbol": "XYZQX", "quoteType": "MUTUALFUND"},
            {"symbol": "XYZQ.L", "quoteType": "EQUITY"},
        ]
    }
    yahoo.fail("search", status=200, body=search)
    with pytest.raises(UnknownTicker) as caught:
        live.get_company("XYZQ")
    assert caught.value.message == "No company found for 'XYZQ'"
    assert [m.ticker for m in caught.value.suggestions] == ["XYZ", "XYZQ.L"]


def test_rate_limit_is_retried_with_backoff_then_reported(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    yahoo.fail("quoteSummary", status=429)
    with pytest.raises(RateLimited) as caught:
        live.get_company("AAPL")
    assert caught.value.message == (
        "Yahoo Finance is rate-limiting this server; try again in a minute"
    )
    # yfinance itself asks twice per attempt (it retries with the other cookie strategy)
    assert yahoo.count("quoteSummary", module="financialData") == 2 * (1 + live.yahoo.retries)


def test_a_rate_limit_that_clears_is_absorbed_by_the_retry(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    # yfinance's own two tries of attempt 1 of the info call
    yahoo.fail("quoteSummary", status=429, times=2, module="financialData")
    assert live.get_company("AAPL").profile.name == "Apple Inc."
    assert yahoo.count("quoteSummary", module="financialData") == 3


def test_refused_connection_is_unreachable(live: MarketDataService, yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("Connection refused"))
    with pytest.raises(DataSourceUnreachable) as caught:
        live.get_company("AAPL")
    assert caught.value.message == (
        "Yahoo Finance cannot be reached: this server seems to be offline "
        "(the connection was refused or cut)"
    )
    assert caught.value.outage == "no_network" and not caught.value.retryable


def test_no_network_is_named_as_such(
    live: MarketDataService, yahoo: YahooReplay, lookup_failure: requests.ConnectionError
) -> None:
    """What a machine without network gets from requests (yfinance even trips over it)."""
    yahoo.fail("quoteSummary", exception=lookup_failure)
    with pytest.raises(DataSourceUnreachable) as caught:
        live.get_company("MSFT")
    assert caught.value.message == (
        "Yahoo Finance cannot be reached: this server seems to be offline "
        "(its address could not be looked up)"
    )
    assert caught.value.fields()["outage"] == "no_network"


def test_yahoo_failing_says_try_later(live: MarketDataService, yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", status=503)
    with pytest.raises(DataSourceUnreachable) as caught:
        live.get_company("AAPL")
    assert caught.value.message == (
        "Yahoo Finance is having trouble (HTTP 503); try again in a few minutes"
    )
    assert caught.value.retryable


def test_an_answer_erts_cannot_read_says_so(live: MarketDataService, yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", status=200, body=["not", "a", "quote", "summary"])
    with pytest.raises(DataSourceUnreachable) as caught:
        live.get_company("AAPL")
    assert caught.value.outage == "unreadable"
    assert caught.value.message.startswith("Yahoo Finance sent an answer ERT could not read (")


def test_auto_falls_back_to_the_bundled_snapshot_with_a_visible_label(yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("Connection refused"))
    service = MarketDataService(source="auto", timeout=5.0, backoff=0.01)
    company = service.get_company("AAPL")
    assert company.source == "snapshot"
    assert company.source_label == "offline snapshot as of 2025-02-14"


def test_auto_remembers_an_outage_and_serves_snapshots_at_once(yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("Connection refused"))
    service = MarketDataService(source="auto", timeout=5.0, backoff=0.01)
    assert service.get_company("AAPL").source == "snapshot"
    assert yahoo.count("quoteSummary", "AAPL") >= 1
    assert service.get_company("SPOT").source == "snapshot"
    assert yahoo.count(ticker="SPOT") == 0  # Yahoo was not asked again


def test_auto_without_a_snapshot_reports_the_outage(yahoo: YahooReplay, tmp_path: Path) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("Connection refused"))
    service = MarketDataService(source="auto", timeout=5.0, snapshot_dir=tmp_path)
    with pytest.raises(DataSourceUnreachable) as caught:
        service.get_company("AAPL")
    assert caught.value.alternatives == []


def test_auto_offline_offers_the_bundled_companies_for_another(
    yahoo: YahooReplay, lookup_failure: requests.ConnectionError
) -> None:
    yahoo.fail("quoteSummary", exception=lookup_failure)
    service = MarketDataService(source="auto", timeout=5.0)
    with pytest.raises(DataSourceUnreachable) as caught:
        service.get_company("MSFT")
    assert caught.value.message == (
        "Yahoo Finance cannot be reached: this server seems to be offline (its address "
        "could not be looked up). Until it answers, ERT can write about the 10 companies "
        "bundled with it"
    )
    assert [m.ticker for m in caught.value.alternatives] == EQUITIES
    assert caught.value.alternatives[0].name == "Apple Inc."
    assert caught.value.suggestions == []
    with pytest.raises(DataSourceUnreachable) as named:
        service.get_company("APPLE")  # a name typed as a ticker
    assert [m.ticker for m in named.value.suggestions] == ["AAPL"]
    with pytest.raises(NotAnEquity, match="QQQ is an ETF"):
        service.get_company("QQQ")
    assert yahoo.count("quoteSummary", "MSFT") > 0
    assert yahoo.count(ticker="APPLE") == 0  # known to be offline: answered at once


def test_an_outage_is_logged_once_not_per_request(
    yahoo: YahooReplay, lookup_failure: requests.ConnectionError, caplog: pytest.LogCaptureFixture
) -> None:
    yahoo.fail("quoteSummary", exception=lookup_failure)
    yahoo.fail("search", exception=lookup_failure)
    service = MarketDataService(source="auto", timeout=5.0)
    with caplog.at_level(logging.INFO):
        for ticker in ("MSFT", "AAPL", "NVDA", "MSFT"):
            with contextlib.suppress(MarketDataError):
                service.get_company(ticker)
        service.search("nvidia")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "frontend_app.market.service",
            "WARNING",
            "Yahoo Finance cannot be reached: this server seems to be offline (its address "
            "could not be looked up); the bundled companies are served until it answers",
        )
    ]


def test_a_slow_part_becomes_a_gap_not_a_stall(yahoo: YahooReplay, tmp_path: Path) -> None:
    # three seconds: the fifteen parts' parsing shares one interpreter on a busy machine
    yahoo.fail("chart", delay=6.0)
    service = MarketDataService(source="yfinance", timeout=3.0, snapshot_dir=tmp_path)
    company = service.get_company("AAPL")
    prices_gap = [gap for gap in company.gaps if gap.part == "prices"]
    assert prices_gap and prices_gap[0].reason == "no answer within 3 s"
    assert prices_gap[0].retryable
    assert company.prices is None
    assert "income_annual" in company.statements  # the other parts arrived


def test_a_slow_info_call_is_unreachable(yahoo: YahooReplay, tmp_path: Path) -> None:
    yahoo.fail("quoteSummary", delay=2.0)
    service = MarketDataService(source="yfinance", timeout=0.5, snapshot_dir=tmp_path)
    with pytest.raises(DataSourceUnreachable) as caught:
        service.get_company("AAPL")
    assert caught.value.message == (
        "Yahoo Finance did not answer (no answer within 0.5 s); try again in a minute"
    )


def test_empty_statement_answers_are_named_gaps_never_zeros(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    yahoo.fail("timeseries", status=200, body={"timeseries": {"result": [], "error": None}})
    company = live.get_company("AAPL")
    gaps = {gap.part: gap for gap in company.gaps}
    assert set(gaps) == {
        "income_annual",
        "income_quarterly",
        "balance_annual",
        "balance_quarterly",
        "cashflow_annual",
        "cashflow_quarterly",
    }
    assert company.statements == {}
    assert company.quote.price == 244.6


def test_half_missing_quote_summary_leaves_fields_empty(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    body = json.loads(json.dumps(recording("quoteSummary-all-AAPL.json")))
    result = body["quoteSummary"]["result"][0]
    del result["financialData"], result["defaultKeyStatistics"]
    yahoo.fail("quoteSummary", status=200, body=body, ticker="AAPL")
    company = live.get_company("AAPL")
    assert company.profile.name == "Apple Inc."
    assert company.analysts.target_mean is None  # from financialData: missing, not 0
    assert company.statistics.forward_eps is None
    assert company.quote.price == 244.6  # the v7 quote still answered


def test_malformed_chart_answer_is_a_gap(live: MarketDataService, yahoo: YahooReplay) -> None:
    yahoo.fail("chart", status=200, body={"chart": {"result": [{"meta": {}}], "error": None}})
    company = live.get_company("AAPL")
    assert "prices" in {gap.part for gap in company.gaps}
    assert company.prices is None


@pytest.mark.parametrize("raw", ["", "AAPL;DROP TABLE", "<script>", "../../etc/passwd", "ÄPPLE"])
def test_bad_tickers_never_reach_yahoo(
    live: MarketDataService, yahoo: YahooReplay, raw: str
) -> None:
    with pytest.raises(InvalidTicker):
        live.get_company(validate_ticker(raw))
    # Only this input is in question: worker threads of earlier tests may still be finishing
    # their calls for real tickers while this one runs.
    assert [c for c in yahoo.calls if not re.fullmatch(r"\w+/[A-Z0-9.^=-]{1,12}", c)] == []


def test_whitespace_around_a_valid_ticker_is_trimmed(live: MarketDataService) -> None:
    assert live.get_company(validate_ticker("  aapl\t")).ticker == "AAPL"
