"""Several instances on one Redis (REDIS_URL): one Yahoo call per ticker for all of them.

Each MarketDataService here stands for one dashboard instance: its own Redis client, its
own process-local flights; Yahoo is the recorded replay, which counts the calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from frontend_app.market import MarketDataService, PeerFinder, validate_ticker
from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, replay_yahoo
from tests.frontend_app.market.test_cache import RESEARCH_MODULES

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


def instance(url: str, tmp_path: Path) -> MarketDataService:
    return MarketDataService(
        source="yfinance", snapshot_dir=tmp_path, shared=redis.Redis.from_url(url)
    )


def test_two_instances_asking_at_once_make_one_upstream_fetch(redis_url, tmp_path) -> None:
    with replay_yahoo(delay=0.05) as yahoo:
        first, second = instance(redis_url, tmp_path), instance(redis_url, tmp_path)
        with ThreadPoolExecutor(max_workers=16) as pool:
            asks = [
                pool.submit(svc.get_company, validate_ticker("AAPL")) for svc in [first, second] * 8
            ]
            companies = [ask.result(timeout=60) for ask in asks]
    # One fetch for both instances: each part asked once. (Statements are not counted: in a
    # loaded full run the replay once saw yfinance ask some again within that one fetch.)
    for module in ("financialData", *RESEARCH_MODULES):
        assert yahoo.count("quoteSummary", "AAPL", module=module) == 1, module
    assert {company.to_dict()["quote"]["price"] for company in companies} == {
        companies[0].quote.price
    }
    assert all(company == companies[0] for company in companies)


def test_an_instance_started_later_is_served_from_the_shared_cache(redis_url, tmp_path) -> None:
    with replay_yahoo() as yahoo:
        fetched = instance(redis_url, tmp_path).get_company(validate_ticker("AAPL"))
        calls = len(yahoo.calls)
        later = instance(redis_url, tmp_path).get_company(validate_ticker("AAPL"))
        assert len(yahoo.calls) == calls
    assert later == fetched
    assert later.statements["income_annual"].value("TotalRevenue") == 391035000000


def test_yahoos_recommended_peers_are_asked_once_for_all_instances(redis_url, tmp_path) -> None:
    with replay_yahoo() as yahoo:
        yahoo.recommend("AAPL", ["MSFT", "GOOG"])
        first = PeerFinder(instance(redis_url, tmp_path))
        second = PeerFinder(instance(redis_url, tmp_path))
        assert first.recommended("AAPL") == ["MSFT", "GOOG"]
        assert second.recommended("AAPL") == ["MSFT", "GOOG"]
        assert yahoo.count("recommendations", "AAPL") == 1


def test_without_redis_a_report_still_gets_its_data(own_redis, tmp_path) -> None:
    """Redis lost while a report is written: the cache is skipped, the data still comes."""
    with replay_yahoo() as yahoo:
        service = instance(own_redis.url, tmp_path)
        own_redis.stop()
        company = service.get_company(validate_ticker("AAPL"))
        assert company.ticker == "AAPL"
        own_redis.start()
        again = service.get_company(validate_ticker("AAPL"))  # kept nothing while Redis was gone
        assert yahoo.count("quoteSummary", "AAPL", module="financialData") == 2
        service.get_company(validate_ticker("AAPL"))  # cached again now
        assert yahoo.count("quoteSummary", "AAPL", module="financialData") == 2
    assert again.quote == company.quote and again.statements == company.statements
