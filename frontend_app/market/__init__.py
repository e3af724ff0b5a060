"""Market data for the dashboard: validated tickers in, CompanyData out.

How the dashboard calls it::

    from frontend_app.market import MarketDataService, MarketDataError, validate_ticker

    service = MarketDataService(source="auto")       # one per process; ERT_DATA_SOURCE
    symbol = validate_ticker(" aapl ")               # Ticker("AAPL"); raises InvalidTicker
    try:
        company = service.get_company(symbol)        # CompanyData
    except MarketDataError as error:                 # error.code, error.message
        ...                                          # .suggestions, .alternatives (Match)
    service.search("apple")                          # [Match("AAPL", "Apple Inc.", ...)]

- `MarketDataService(source: "yfinance" | "snapshot" | "auto" = "auto", quote_ttl=900,
  statement_ttl=86400, timeout=15.0, *, retries=2, backoff=1.0, snapshot_dir=...)`;
  `.get_company(ticker: Ticker) -> CompanyData` (a ticker validate_ticker returned, checked
  once where it entered; blocking, call it from a job, not from the event loop's hot path),
  `.search(query) -> list[Match]` (a ticker or a name: Yahoo's search online, the bundled
  companies and well-known funds offline), `.offline` (only bundled companies work now),
  `.snapshots.companies` (the companies bundled for offline use, as Matches).
  The ticker's syntax is checked before anything is fetched; its existence and
  quoteType by the first answer of the parallel fetch.
- `CompanyData` (pydantic, frozen): ticker, source ("yfinance" | "snapshot"), as_of
  (date), source_label ("Yahoo Finance as of 2025-02-14" / "offline snapshot as of
  2025-02-14"), fetched_at, profile, quote, statistics, analysts, statements
  ({"income_annual": Statement, ...}), prices (PriceHistory | None), gaps (list of
  Gap(part, reason, retryable); part is "prices" or a statement name: income_annual,
  income_quarterly, balance_annual, balance_quarterly, cashflow_annual,
  cashflow_quarterly). `.to_dict()` is JSON-safe; `CompanyData.from_dict(d)`.
  Units: see frontend_app.market.company (fractions for ratios, major currencies).
- `Match` (frozen): ticker, name, quote_type (Yahoo's: EQUITY, ETF, ...), exchange,
  bundled (works offline); `.fields()` is what the API and the page get.
- Errors (all `MarketDataError`, an ErtError: `.code` and a user-facing `.message`):
  InvalidTicker, UnknownTicker (`.suggestions`), NotAnEquity, NotBundled (snapshot mode;
  `.suggestions`, `.alternatives`), RateLimited, DataSourceUnreachable (`.outage`:
  no_network, timeout, yahoo_error or unreadable; in auto mode the bundled companies as
  `.alternatives`). `.retryable` says whether trying later may help.
"""

from .company import (
    Analysts,
    CompanyData,
    Gap,
    KeyStatistics,
    PriceHistory,
    Profile,
    Quote,
    Statement,
)
from .errors import (
    DataSourceUnreachable,
    InvalidTicker,
    MarketDataError,
    NotAnEquity,
    NotBundled,
    RateLimited,
    UnknownTicker,
)
from .search import Match
from .service import DataSource, MarketDataService
from .tickers import Ticker, validate_ticker

__all__ = [
    "Analysts",
    "CompanyData",
    "DataSource",
    "DataSourceUnreachable",
    "Gap",
    "InvalidTicker",
    "KeyStatistics",
    "MarketDataError",
    "MarketDataService",
    "Match",
    "NotAnEquity",
    "NotBundled",
    "PriceHistory",
    "Profile",
    "Quote",
    "RateLimited",
    "Statement",
    "Ticker",
    "UnknownTicker",
    "validate_ticker",
]
