"""Benchmark of the market data layer against a replayed Yahoo that answers in 200 ms.

    .venv/bin/python bench/bench_market_data.py [--eventlet]

--eventlet monkey-patches with eventlet first, as wsgi.py does for gunicorn's eventlet
worker. The replay goes through yfinance's `requests` fallback, whose patched sockets
and green-sleeping replay overlap under eventlet whatever the design; the curl_cffi
path is measured by tests/frontend_app/market/test_green_fetch.py.

Targets: a cold fetch of one company takes under 1.5x the slowest single yfinance
call (the parts run in parallel); a cached fetch under 5 ms; 20 concurrent requests
for one ticker make one upstream fetch; the data stage of a report with 5 peers (the
company and its peers, named or recommended by Yahoo) under 1.5x the slowest single
call. Prints the figures; exits 1 if a target is missed.
"""

from __future__ import annotations

import sys

EVENTLET = "--eventlet" in sys.argv[1:]
if EVENTLET:  # before anything imports socket, ssl or threading, as in wsgi.py
    import eventlet

    eventlet.monkey_patch()

import os
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ["YF_DISABLE_CURL_CFFI"] = "1"  # before yfinance is imported: lets us replay
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yfinance as yf

from frontend_app.market import MarketDataService, PeerFinder
from frontend_app.market.yahoo import MARKET_CALLS, RESEARCH_CALLS, STATEMENT_CALLS
from tests.fakes.yahoo import replay_yahoo

DELAY = 0.2
TICKER = "AAPL"
PEERS = ["ABBV", "BABA", "CRM", "EPAC", "SPOT"]  # recorded equities

warnings.filterwarnings("ignore")  # yfinance's pandas deprecation noise (after its import)


def timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def main() -> int:
    snapshots = Path(tempfile.mkdtemp(prefix="ert-bench-"))  # no snapshot fallback
    results: list[tuple[str, bool]] = []
    with replay_yahoo(delay=DELAY) as yahoo:
        for call in MARKET_CALLS.values():  # warm cookie, crumb and timezone caches
            call(yf.Ticker(TICKER))
        singles = {}
        for part, call in {**MARKET_CALLS, **STATEMENT_CALLS, **RESEARCH_CALLS}.items():
            yf.data.YfData().cache_get.cache_clear()
            singles[part] = timed(lambda call=call: call(yf.Ticker(TICKER)))
        slowest_part = max(singles, key=singles.__getitem__)
        slowest = singles[slowest_part]
        mode = "under eventlet's monkey-patching" if EVENTLET else "with real threads"
        print(f"upstream answers after {DELAY * 1000:.0f} ms per call; {mode}")
        for part, seconds in sorted(singles.items(), key=lambda item: -item[1]):
            print(f"  single call {part:<20} {seconds * 1000:7.0f} ms")

        yf.data.YfData().cache_get.cache_clear()
        service = MarketDataService(source="yfinance", snapshot_dir=snapshots)
        cold = timed(lambda: service.get_company(TICKER))
        ratio = cold / slowest
        print(
            f"cold fetch of {TICKER} ({len(singles)} parts)   {cold * 1000:7.0f} ms = "
            f"{ratio:.2f}x the slowest single call ({slowest_part})"
        )
        results.append(("cold fetch < 1.5x slowest single call", ratio < 1.5))

        warm = [timed(lambda: service.get_company(TICKER)) for _ in range(200)]
        print(
            f"cached fetch                   median {statistics.median(warm) * 1e6:.0f} us, "
            f"max {max(warm) * 1e6:.0f} us"
        )
        results.append(("cached fetch < 5 ms", max(warm) < 0.005))

        yf.data.YfData().cache_get.cache_clear()
        service = MarketDataService(source="yfinance", snapshot_dir=snapshots)
        before = yahoo.count("quoteSummary", TICKER, module="financialData")  # info calls
        with ThreadPoolExecutor(max_workers=20) as pool:
            started = time.perf_counter()
            companies = list(pool.map(service.get_company, [TICKER] * 20))
            together = time.perf_counter() - started
        fetches = yahoo.count("quoteSummary", TICKER, module="financialData") - before
        print(
            f"20 concurrent requests         {together * 1000:7.0f} ms, {fetches} upstream "
            f"fetch(es), {len({id(c) for c in companies})} distinct result(s)"
        )
        results.append(("20 concurrent requests -> 1 upstream fetch", fetches == 1))

        yahoo.recommend(TICKER, PEERS)
        for label, named in (("named", PEERS), ("recommended by Yahoo", None)):
            yf.data.YfData().cache_get.cache_clear()
            finder = PeerFinder(MarketDataService(source="yfinance", snapshot_dir=snapshots))
            started = time.perf_counter()
            both = finder.fetch(TICKER, peers=named)
            stage = time.perf_counter() - started
            ratio = stage / slowest
            print(
                f"data stage, 5 peers {label:<21}{stage * 1000:6.0f} ms = {ratio:.2f}x the "
                f"slowest single call; peers {','.join(both.peers.tickers)}, "
                f"left out {len(both.peers.left_out)}"
            )
            results.append(
                (f"data stage with 5 peers ({label}) < 1.5x slowest single call", ratio < 1.5)
            )
            results.append((f"all 5 peers ({label}) fetched", both.peers.tickers == PEERS))

    for name, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
