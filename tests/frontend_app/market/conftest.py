"""Fixtures for the market data tests: the Yahoo replay and services built on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from frontend_app.market import MarketDataService
from tests.fakes.yahoo import YahooReplay, replay_yahoo


@pytest.fixture
def yahoo() -> Iterator[YahooReplay]:
    with replay_yahoo() as replay:
        yield replay


@pytest.fixture
def live(yahoo: YahooReplay, tmp_path: Path) -> MarketDataService:
    """A yfinance-only service with no snapshots, quick retries and a short timeout."""
    return MarketDataService(source="yfinance", timeout=5.0, backoff=0.01, snapshot_dir=tmp_path)


@pytest.fixture(scope="session")
def lookup_failure() -> requests.ConnectionError:
    """What requests raises on a machine without network: a name that cannot be looked up.

    Made for real, once, before any replay patches requests: `.invalid` never resolves
    (RFC 6761), online or not.
    """
    try:
        requests.get(
            "https://query2.finance.yahoo.invalid/v10/finance/quoteSummary/AAPL", timeout=5
        )
    except requests.ConnectionError as error:
        return error
    raise AssertionError("a .invalid name resolved")
