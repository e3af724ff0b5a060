"""The bundled snapshots: complete, current, and served like live data."""

from __future__ import annotations

import json
import re

import pytest

from frontend_app.market import MarketDataService, NotAnEquity, NotBundled
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


def test_every_bundled_company_is_indexed_with_its_name() -> None:
    for ticker in BUNDLED:
        stored = json.loads((SNAPSHOT_DIR / f"{ticker}.json").read_text(encoding="utf-8"))
        assert INDEX["names"][ticker] == stored["profile"]["name"]


def test_snapshot_mode_offers_the_bundled_companies_for_one_it_lacks() -> None:
    with pytest.raises(NotBundled) as caught:
        MarketDataService(source="snapshot").get_company("APPL")
    assert caught.value.message == (
        "APPL is not one of the companies bundled with ERT, and this server reads only "
        "those (ERT_DATA_SOURCE=snapshot); pick one of them"
    )
    assert [m.ticker for m in caught.value.suggestions] == ["AAPL"]
    fields = caught.value.fields()
    assert [a["ticker"] for a in fields["alternatives"]] == BUNDLED
    assert fields["alternatives"][0] == {
        "ticker": "AAPL",
        "name": "Apple Inc.",
        "quote_type": "EQUITY",
        "exchange": None,
        "bundled": True,
    }


@pytest.mark.parametrize(
    "ticker, kind",
    [("QQQ", "an ETF"), ("SPY", "an ETF"), ("^GSPC", "an index"), ("ETH-USD", "a cryptocurrency")],
)
def test_offline_non_equities_are_refused_like_online(ticker: str, kind: str) -> None:
    with pytest.raises(NotAnEquity, match=f"{re.escape(ticker)} is {kind}"):
        MarketDataService(source="snapshot").get_company(ticker)
