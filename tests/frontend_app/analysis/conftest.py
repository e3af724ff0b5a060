"""Companies for the analysis tests, read from the bundled snapshots.

The snapshots are built by the real yfinance path from the recordings (and
tests/frontend_app/market/test_snapshots.py keeps them current), so these tests
need neither yfinance nor the network.
"""

from __future__ import annotations

import pytest

from frontend_app.market import CompanyData
from frontend_app.market.snapshots import SnapshotSource


@pytest.fixture(scope="session")
def companies() -> SnapshotSource:
    return SnapshotSource()


@pytest.fixture(scope="session")
def aapl(companies: SnapshotSource) -> CompanyData:
    return companies.fetch("AAPL")
