"""Build the offline snapshots in frontend_app/snapshots/ by running the live yfinance path.

    .venv/bin/python scripts/make_snapshots.py            # replay the recorded Yahoo answers
    .venv/bin/python scripts/make_snapshots.py --live AAPL MSFT   # ask Yahoo itself

Offline (the default) the recordings in ../shared/fixtures/yahoo (next to the
repository) are replayed through the real yfinance, and every symbol they cover is
tried: equities are written as `<TICKER>.json` (and their as-of date, name and sector
listed in `index.json`), non-equities are listed in `index.json` so the snapshot
source refuses them the way the live source does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tickers", nargs="*", help="tickers (default: all recorded ones)")
    parser.add_argument("--live", action="store_true", help="fetch from Yahoo, not recordings")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "frontend_app" / "snapshots")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    if not args.live:
        os.environ["YF_DISABLE_CURL_CFFI"] = "1"  # before yfinance is imported: lets us replay
    import yfinance as yf

    warnings.filterwarnings("ignore", module="yfinance")  # pandas deprecation noise
    from frontend_app.market import MarketDataError, NotAnEquity, validate_ticker
    from frontend_app.market.snapshots import INDEX_FILE
    from frontend_app.market.yahoo import YahooSource
    from tests.fakes.yahoo import recorded_tickers, replay_yahoo

    if args.live and not args.tickers:
        print("--live needs the tickers to fetch", file=sys.stderr)
        return 2
    try:
        tickers = [validate_ticker(t) for t in args.tickers] or recorded_tickers()
    except MarketDataError as error:
        print(error.message, file=sys.stderr)
        return 2

    yf.set_tz_cache_location(tempfile.mkdtemp(prefix="ert-yf-tz-"))
    args.out.mkdir(parents=True, exist_ok=True)
    index_path = args.out / INDEX_FILE
    index = (
        json.loads(index_path.read_text(encoding="utf-8"))
        if index_path.is_file()
        else {"companies": {}, "not_equities": {}}
    )
    index.setdefault("names", {})
    index.setdefault("sectors", {})
    source = YahooSource(timeout=30.0)
    replay: AbstractContextManager[object] = nullcontext() if args.live else replay_yahoo()
    with replay:
        for ticker in tickers:
            try:
                company = source.fetch(ticker)
            except NotAnEquity as refused:
                index["not_equities"][ticker] = refused.quote_type
                index["companies"].pop(ticker, None)
                index["names"].pop(ticker, None)
                index["sectors"].pop(ticker, None)
                print(f"{ticker}: refused, {refused.message}")
                continue
            except MarketDataError as error:
                print(f"{ticker}: skipped, {error.message}")
                continue
            path = args.out / f"{ticker}.json"
            path.write_text(
                json.dumps(company.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )
            index["companies"][ticker] = company.as_of.isoformat()
            index["names"][ticker] = company.profile.name
            if company.profile.sector:
                index["sectors"][ticker] = company.profile.sector
            index["not_equities"].pop(ticker, None)
            gaps = ", ".join(gap.part for gap in company.gaps) or "none"
            print(f"{ticker}: as of {company.as_of}, gaps: {gaps}")
    index = {key: dict(sorted(value.items())) for key, value in index.items()}
    index_path.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
