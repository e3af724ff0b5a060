"""The bundled snapshots: complete, current, and served like live data."""

from __future__ import annotations

import json

import pytest

from frontend_app.market import MarketDataService, NotAnEquity, UnknownTicker
from frontend_app.market.snapshots import SNAPSHOT_DIR
from frontend_app.market.yahoo import YahooSource
from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, YahooReplay

INDEX = json.loads((SNAPSHOT_DIR / "index.json").read_text(encoding="utf-8"))
BUNDLED = sorted(INDEX["companies"])

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


def test_every_recorded_equity_is_bundled() -> None:
    assert BUNDLED == [
        "AAPL",
        "ABBV",
        "BABA",
        "BFLY",
        "CRM",
        "CRON",
        "EPAC",
        "OCDO.L",
        "ORSTED.CO",
        "SPOT",
    ]
    assert INDEX["not_equities"] == {
        "BTC-USD": "CRYPTOCURRENCY",
        "EURUSD=X": "CURRENCY",
        "GC=F": "FUTURE",
        "QQQ": "ETF",
        "WSKT.JK": "MUTUALFUND",
    }


@pytest.mark.parametrize("ticker", BUNDLED)
def test_snapshot_service_serves_each_bundled_company(ticker: str) -> None:
    company = MarketDataService(source="snapshot").get_company(ticker)
    assert company.source == "snapshot"
    assert company.source_label == f"offline snapshot as of {INDEX['companies'][ticker]}"
    assert company.as_of.isoformat() == INDEX["companies"][ticker]


def test_every_bundled_company_has_its_sector_for_offline_peers() -> None:
    assert sorted(INDEX["sectors"]) == BUNDLED
    assert INDEX["sectors"]["AAPL"] == INDEX["sectors"]["CRM"] == "Technology"


@pytest.mark.parametrize("ticker", BUNDLED)
def test_snapshots_match_what_the_live_path_builds_today(yahoo: YahooReplay, ticker: str) -> None:
    """Guards against stale snapshots: rerun scripts/make_snapshots.py when this fails."""
    fresh = YahooSource(timeout=10).fetch(ticker).to_dict()
    stored = json.loads((SNAPSHOT_DIR / f"{ticker}.json").read_text(encoding="utf-8"))
    fresh.pop("fetched_at"), stored.pop("fetched_at")
    assert fresh == stored


def test_offline_unknown_ticker_suggests_bundled_ones() -> None:
    with pytest.raises(UnknownTicker) as caught:
        MarketDataService(source="snapshot").get_company("APPL")
    assert caught.value.message == "No company found for 'APPL'"
    assert "AAPL" in caught.value.suggestions


def test_offline_non_equity_is_refused_like_online() -> None:
    with pytest.raises(NotAnEquity, match="QQQ is an ETF"):
        MarketDataService(source="snapshot").get_company("QQQ")
