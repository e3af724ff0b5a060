"""Benchmark of the computations of one report: metrics, DCF, grid, reverse DCF, comps, all.

    .venv/bin/python bench/bench_valuation.py

AAPL from its bundled snapshot, given five years of daily prices (as a live fetch has,
so returns, volatility, moving averages and the own-history multiples are computed
too), against 5 bundled peers. Target: build_report_data (every metric, the DCF, its
sensitivity grid and reverse DCF, the comps, the multiples, the estimates, the fact
sheet and the tables) under 50 ms per report (median of warm runs; the first run in
a process also pays one-off set-up, printed apart). Prints the figures; exits 1 if the
target is missed.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frontend_app.analysis import DEFAULT_SETTINGS, build_report_data, compute_metrics
from frontend_app.analysis.comps import build_comps, entry
from frontend_app.analysis.dcf import DcfSetup, dcf, dcf_setup, reverse_dcf, sensitivity
from frontend_app.market import CompanyData, PriceHistory
from frontend_app.market.snapshots import SnapshotSource

TARGET_MS = 50.0
RUNS = 200
PEERS = ["ABBV", "BABA", "CRM", "EPAC", "SPOT"]


def five_years_of_prices(company: CompanyData) -> CompanyData:
    """Weekday closes from five years before the as-of date up to it."""
    days, day = [], company.as_of - timedelta(days=5 * 365)
    while day <= company.as_of:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    closes = [150 + 60 * math.sin(i / 90) + i * 0.05 for i in range(len(days))]
    return company.model_copy(
        update={"prices": PriceHistory(currency="USD", dates=days, close=closes)}
    )


def timed_ms(func: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    snapshots = SnapshotSource()
    company = five_years_of_prices(snapshots.fetch("AAPL"))
    peers = [snapshots.fetch(ticker) for ticker in PEERS]
    assert company.prices is not None and company.prices.dates[-1] <= date(2025, 2, 14)

    started = time.perf_counter()
    data = build_report_data(company, peers)
    first = (time.perf_counter() - started) * 1000
    assert data.peers.tickers == PEERS, data.peers.left_out

    def metrics() -> None:
        compute_metrics(company)

    def dcf_grid_reverse() -> None:
        setup = dcf_setup(company, DEFAULT_SETTINGS)
        assert isinstance(setup, DcfSetup)
        dcf(setup, company.quote.price)
        sensitivity(setup)
        reverse_dcf(setup, company.quote.price)

    def comps() -> None:
        build_comps(
            entry(company, compute_metrics(company)),
            [entry(p, compute_metrics(p)) for p in peers],
            "bench",
            [],
        )

    def report_data() -> None:
        build_report_data(company, peers)

    def everything() -> None:
        build_report_data(company, peers).to_dict()

    print(f"AAPL with 5 years of prices and 5 peers ({', '.join(PEERS)}); {RUNS} warm runs each")
    print(f"  first run in this process (one-off set-up) {first:7.1f} ms")
    whole = []
    for name, func in (
        ("metrics (one company)", metrics),
        ("DCF, 5x5 grid and reverse DCF", dcf_grid_reverse),
        ("comps (6 companies' metrics)", comps),
        ("build_report_data", report_data),
        ("build_report_data + to_dict()", everything),
    ):
        times = timed_ms(func, RUNS)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"  {name:<32} median {statistics.median(times):6.2f} ms, "
            f"p95 {p95:6.2f} ms, max {max(times):6.2f} ms"
        )
        whole = times
    print(
        f"  {len(data.facts)} facts, {len(data.tables)} tables, {len(data.charts)} chart series; "
        f"DCF value {data.valuation.dcf.value_per_share:.2f} USD"  # type: ignore[union-attr]
    )
    ok = statistics.median(whole) < TARGET_MS
    print(f"{'PASS' if ok else 'FAIL'}  all computations for one report < {TARGET_MS:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
