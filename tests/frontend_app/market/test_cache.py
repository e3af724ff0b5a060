"""Single flight, and the service's caches (cachetools' TTLCache) and flights."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from frontend_app.market import DataSourceUnreachable, MarketDataService, validate_ticker
from frontend_app.market.cache import SingleFlight
from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, YahooReplay

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


def test_single_flight_runs_one_load_for_concurrent_callers() -> None:
    flights: SingleFlight[int] = SingleFlight()
    loads = 0
    release = threading.Event()

    def load() -> int:
        nonlocal loads
        loads += 1
        release.wait(5)
        return 42

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [pool.submit(flights.run, "AAPL", load) for _ in range(20)]
        time.sleep(0.2)
        release.set()
        assert [r.result(timeout=5) for r in results] == [42] * 20
    assert loads == 1


def test_single_flight_shares_the_error_and_forgets_it() -> None:
    flights: SingleFlight[int] = SingleFlight()
    with pytest.raises(ValueError):
        flights.run("X", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert flights.run("X", lambda: 7) == 7  # a failure is not cached


# One quoteSummary module of each research part (estimates, earnings history, ...).
RESEARCH_MODULES = (
    "earningsTrend",
    "earningsHistory",
    "recommendationTrend",
    "upgradeDowngradeHistory",
    "insiderTransactions",
    "calendarEvents",
    "secFilings",
)


def test_twenty_concurrent_requests_make_one_upstream_fetch(tmp_path: Path) -> None:
    from tests.fakes.yahoo import replay_yahoo

    with replay_yahoo(delay=0.05) as yahoo:
        service = MarketDataService(source="yfinance", snapshot_dir=tmp_path)
        with ThreadPoolExecutor(max_workers=20) as pool:
            companies = list(pool.map(service.get_company, ["AAPL"] * 20))
    assert {id(company) for company in companies} == {id(companies[0])}
    assert yahoo.count("quoteSummary", "AAPL", module="financialData") == 1  # info
    for module in RESEARCH_MODULES:
        assert yahoo.count("quoteSummary", "AAPL", module=module) == 1, module
    assert yahoo.count("chart", "AAPL") >= 1
    assert yahoo.count("timeseries", "AAPL") == 7  # six statements and the PEG ratio


def test_cached_company_is_served_without_asking_again(
    live: MarketDataService, yahoo: YahooReplay
) -> None:
    first = live.get_company("AAPL")
    calls = len(yahoo.calls)
    assert live.get_company(validate_ticker(" aapl ")) is first
    assert len(yahoo.calls) == calls


def test_statements_outlive_the_quote(yahoo: YahooReplay, tmp_path: Path) -> None:
    service = MarketDataService(
        source="yfinance", quote_ttl=0, statement_ttl=3600, snapshot_dir=tmp_path
    )
    service.get_company("AAPL")
    statement_calls = yahoo.count("timeseries")
    again = service.get_company("AAPL")  # quote expired at once; statements still fresh
    assert yahoo.count("quoteSummary", module="financialData") == 2
    # no statement asked again (info's PEG-ratio URL is answered by yfinance's own cache)
    assert yahoo.count("timeseries") == statement_calls
    assert again.statements["income_annual"].value("TotalRevenue") == 391035000000


def test_statements_with_a_transient_gap_are_not_kept(yahoo: YahooReplay, tmp_path: Path) -> None:
    # The six statements and info's PEG-ratio call answer too late, once each.
    # Late by three times the timeout, and a timeout that a busy machine still keeps when
    # Yahoo answers at once.
    yahoo.fail("timeseries", delay=9.0, times=7)
    service = MarketDataService(source="yfinance", quote_ttl=0, timeout=3.0, snapshot_dir=tmp_path)
    with pytest.raises(DataSourceUnreachable):  # info's PEG-ratio call is slow too
        service.get_company(validate_ticker("AAPL"))
    asked = yahoo.count("timeseries")
    company = service.get_company(validate_ticker("AAPL"))  # Yahoo answers in time again
    assert yahoo.count("timeseries") >= asked + 6  # the statements are asked for again
    assert company.statements["income_annual"].value("TotalRevenue") == 391035000000
