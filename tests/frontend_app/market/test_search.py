"""Finding companies by what a person types: Yahoo's search online, the bundled companies
and well-known funds offline, and what a symbol tells by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from frontend_app.market import MarketDataService
from frontend_app.market.instruments import quote_type_by_convention
from frontend_app.market.snapshots import SnapshotSource
from tests.fakes.yahoo import YahooReplay

BUNDLED = SnapshotSource()


def tickers(query: str) -> list[str]:
    return [m.ticker for m in BUNDLED.search(query)]


@pytest.mark.parametrize("query", ["apple", "APPLE", " Apple  Inc ", "aapl", "AAPL"])
def test_a_bundled_company_is_found_by_ticker_or_name(query: str) -> None:
    assert tickers(query)[0] == "AAPL"
    match = BUNDLED.search(query)[0]
    assert (match.name, match.quote_type, match.bundled) == ("Apple Inc.", "EQUITY", True)


def test_only_what_matches_the_typed_text_is_offered() -> None:
    assert tickers("AAPL") == ["AAPL"]  # not BABA, which merely shares letters
    assert tickers("MSFT") == []  # not SPOT
    assert tickers("alibaba") == ["BABA"]
    assert tickers("spotify") == ["SPOT"]
    assert tickers("OCDO") == ["OCDO.L"]  # a missing exchange suffix
    assert tickers("APPL") == ["AAPL"]  # one typo away, when nothing else matches
    assert tickers("ZZZZZZ") == []


def test_funds_are_found_and_marked_as_funds() -> None:
    found = BUNDLED.search("invesco")
    assert [m.ticker for m in found][:2] == ["QQQ", "QQQM"]
    assert {m.quote_type for m in found} == {"ETF"} and not any(m.bundled for m in found)


@pytest.mark.parametrize(
    "ticker, quote_type",
    [
        ("^GSPC", "INDEX"),
        ("EURUSD=X", "CURRENCY"),
        ("GC=F", "FUTURE"),
        ("BTC-USD", "CRYPTOCURRENCY"),
        ("ETH-EUR", "CRYPTOCURRENCY"),
        ("VFIAX", "MUTUALFUND"),
        ("SPY", "ETF"),
        ("BRK-B", None),  # a share class, not a pair
        ("MSFT", None),
        ("OCDO.L", None),
        ("GOOGL", None),
    ],
)
def test_what_a_symbol_tells_by_itself(ticker: str, quote_type: str | None) -> None:
    assert quote_type_by_convention(ticker) == quote_type


def test_online_the_search_is_yahoos(live: MarketDataService, yahoo: YahooReplay) -> None:
    found = live.search("AAPL")
    assert found[0].ticker == "AAPL" and found[0].name == "Apple Inc."
    assert found[0].exchange == "NASDAQ" and found[0].equity
    assert "AAPU" in {m.ticker for m in found if m.quote_type == "ETF"}
    assert not any(m.quote_type == "OPTION" for m in found)
    live.search(" aapl ")
    assert yahoo.count("search") == 1  # kept for an hour


def test_online_a_funds_search_says_what_it_is(live: MarketDataService) -> None:
    found = live.search("QQQ")
    assert (found[0].ticker, found[0].quote_type, found[0].name) == (
        "QQQ",
        "ETF",
        "Invesco QQQ Trust",
    )


def test_offline_the_bundled_companies_answer(
    yahoo: YahooReplay, lookup_failure: requests.ConnectionError
) -> None:
    yahoo.fail("search", exception=lookup_failure)
    service = MarketDataService(source="auto", timeout=5.0)
    assert [m.ticker for m in service.search("apple")] == ["AAPL"]
    assert service.offline
    service.search("alibaba")
    assert yahoo.count("search") == 1  # not asked again while it is known to be offline


def test_the_snapshot_mode_never_asks_yahoo(yahoo: YahooReplay) -> None:
    service = MarketDataService(source="snapshot")
    assert [m.ticker for m in service.search("spotify")] == ["SPOT"]
    assert yahoo.calls == [] and service.offline


def test_live_only_offers_nothing_it_cannot_fetch(
    yahoo: YahooReplay, lookup_failure: requests.ConnectionError, tmp_path: Path
) -> None:
    yahoo.fail("search", exception=lookup_failure)
    service = MarketDataService(source="yfinance", timeout=5.0, snapshot_dir=tmp_path)
    assert service.search("apple") == []
