"""Peer sets: named, recommended by Yahoo, same sector offline; bad ones left out, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from frontend_app.market import MarketDataService, PeerFinder, UnknownTicker, parse_peer_list
from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, YahooReplay

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


@pytest.fixture
def finder(live: MarketDataService) -> PeerFinder:
    return PeerFinder(live)


def reasons(peer_set) -> dict[str, str]:
    return {item.ticker: item.reason for item in peer_set.left_out}


def test_named_peers_are_fetched_and_yahoo_is_not_asked_for_others(
    finder: PeerFinder, yahoo: YahooReplay
) -> None:
    both = finder.fetch("aapl", peers="CRM, spot")
    assert both.company.ticker == "AAPL"
    assert both.peers.selection == "named"
    assert both.peers.note == "Peers named for this report"
    assert both.peers.tickers == ["CRM", "SPOT"]
    assert both.peers.left_out == []
    assert yahoo.count("recommendations") == 0


def test_bad_named_peers_are_left_out_with_a_reason(finder: PeerFinder) -> None:
    both = finder.fetch("AAPL", peers=["CRM", "../etc", "AAPL", "XXXX", "QQQ", "crm"])
    assert both.peers.tickers == ["CRM"]
    left = reasons(both.peers)
    assert left["../etc"].startswith("'../etc' is not a valid ticker")
    assert left["AAPL"] == "it is the company itself"
    assert left["XXXX"] == "No company found for 'XXXX'"
    assert left["QQQ"] == "ERT writes equity research; QQQ is an ETF"


def test_at_most_five_peers_are_compared(finder: PeerFinder) -> None:
    named = ["ABBV", "BABA", "BFLY", "CRM", "CRON", "EPAC", "SPOT"]
    both = finder.fetch("AAPL", peers=named)
    assert both.peers.tickers == named[:5]
    assert reasons(both.peers) == {
        "EPAC": "at most 5 peers are compared",
        "SPOT": "at most 5 peers are compared",
    }


def test_yahoos_similar_companies_are_the_default_peers(
    finder: PeerFinder, yahoo: YahooReplay
) -> None:
    yahoo.recommend("AAPL", ["CRM", "SPOT", "QQQ", "MSFT"])
    both = finder.fetch("AAPL")
    assert both.peers.selection == "recommended"
    assert both.peers.note == "Similar companies Yahoo Finance recommends for AAPL"
    assert both.peers.tickers == ["CRM", "SPOT"]
    assert reasons(both.peers) == {
        "QQQ": "ERT writes equity research; QQQ is an ETF",
        "MSFT": "No company found for 'MSFT'",  # not recorded: Yahoo's unknown-symbol answer
    }
    finder.fetch("AAPL")
    assert yahoo.count("recommendations", "AAPL") == 1  # cached


def test_no_recommendation_and_a_failed_one_are_said_plainly(
    finder: PeerFinder, yahoo: YahooReplay
) -> None:
    assert finder.fetch("EPAC").peers.note == "No peers: Yahoo Finance recommends none for EPAC"
    yahoo.fail("recommendations", status=500)
    peers = finder.fetch("SPOT").peers
    assert (peers.selection, peers.companies) == ("none", [])
    assert peers.note.startswith("No peers: Yahoo Finance's similar companies could not be had")


def test_offline_the_bundled_companies_of_the_sector_are_the_peers(yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("Connection refused"))
    yahoo.recommend("AAPL", ["SPOT"])
    finder = PeerFinder(MarketDataService(source="auto", timeout=5.0, backoff=0.01))
    both = finder.fetch("AAPL")
    assert both.company.source == "snapshot"
    assert both.peers.selection == "sector"
    assert both.peers.note == "Offline: the bundled companies of the same sector (Technology)"
    assert both.peers.tickers == ["CRM"]  # never Yahoo's SPOT beside a snapshot
    assert all(peer.source == "snapshot" for peer in both.peers.companies)


def test_snapshot_mode_uses_the_sector_and_says_when_there_is_none() -> None:
    finder = PeerFinder(MarketDataService(source="snapshot"))
    assert finder.fetch("BFLY").peers.tickers == ["ABBV", "CRON"]
    lonely = finder.fetch("EPAC").peers
    assert (lonely.selection, lonely.companies) == ("none", [])
    assert lonely.note == "No peers: offline, and no other bundled company is in Industrials"


def test_an_unreachable_peer_is_reported_not_fatal(finder: PeerFinder, yahoo: YahooReplay) -> None:
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("refused"), ticker="SPOT")
    both = finder.fetch("AAPL", peers="SPOT, CRM")
    assert both.peers.tickers == ["CRM"]
    assert reasons(both.peers)["SPOT"].startswith("Yahoo Finance cannot be reached")


def test_a_peer_of_another_source_or_date_is_left_out(yahoo: YahooReplay, tmp_path: Path) -> None:
    """A live company is never compared with a peer's bundled snapshot (issue 9)."""
    yahoo.fail("quoteSummary", exception=requests.ConnectionError("refused"), ticker="CRM")
    finder = PeerFinder(MarketDataService(source="auto", timeout=5.0, backoff=0.01))
    both = finder.fetch("AAPL", peers="CRM, SPOT")
    assert both.company.source == "yfinance"
    assert both.peers.tickers == ["SPOT"]
    assert reasons(both.peers)["CRM"] == (
        "its data (offline snapshot as of 2025-02-21) is not from the company's source"
    )


def test_the_companys_own_failure_still_raises(finder: PeerFinder) -> None:
    with pytest.raises(UnknownTicker):
        finder.fetch("XXXX", peers="CRM")


@pytest.mark.parametrize(
    "raw, tickers, invalid",
    [
        ("MSFT, goog;SAP.DE  msft", ["MSFT", "GOOG", "SAP.DE"], []),
        (["brk-b", " "], ["BRK-B"], []),
        ("MSFT, <b>", ["MSFT"], ["<b>"]),
        ("", [], []),
    ],
)
def test_parse_peer_list(raw, tickers: list[str], invalid: list[str]) -> None:
    parsed, bad = parse_peer_list(raw)
    assert parsed == tickers
    assert [item.ticker for item in bad] == invalid


def test_a_peer_costs_one_call_and_a_full_company_serves_as_a_peer(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    peer = live.get_company("CRM", scope="peer")
    assert peer.scope == "peer"
    assert (peer.statements, peer.prices, peer.gaps) == ({}, None, [])
    assert peer.research.estimates == [] and peer.quote.price == 309.8
    assert yahoo.count("quoteSummary", "CRM") == 1  # the info call only
    assert yahoo.count("chart", "CRM") == 0
    assert yahoo.count("quoteSummary", "CRM", module="earningsTrend") == 0

    full = live.get_company("CRM")  # a report on CRM itself still gets everything
    assert full.scope == "full" and full.research.estimates
    assert live.get_company("CRM", scope="peer") is full  # and serves as a peer from now on


def test_finder_fetches_peers_at_peer_scope(finder: PeerFinder) -> None:
    both = finder.fetch("AAPL", peers="CRM")
    assert both.company.scope == "full"
    assert [peer.scope for peer in both.peers.companies] == ["peer"]
