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

    finder = PeerFinder(service)                     # one per process too
    both = finder.fetch("AAPL", peers="MSFT, GOOG")  # CompanyAndPeers; peers=None: ERT chooses
    both.company                                     # CompanyData (raises like get_company)
    both.peers                                       # PeerSet: selection, note, companies, left_out

- `MarketDataService(source: "yfinance" | "snapshot" | "auto" = "auto", quote_ttl=900,
  statement_ttl=86400, timeout=15.0, *, retries=2, backoff=1.0, snapshot_dir=...,
  shared=None)` (shared: a redis.Redis several instances share: the caches and the
  single flight are then in Redis, one Yahoo call per ticker for all of them);
  `.get_company(ticker: Ticker, *, scope="full") -> CompanyData` (a ticker validate_ticker
  returned, checked once where it entered; blocking, call it from a job, not from the
  event loop's hot path; scope "peer": quote, key statistics and profile only, one
  upstream call), `.search(query) -> list[Match]` (a ticker or a name: Yahoo's search
  online, the bundled companies and well-known funds offline), `.offline` (Yahoo is not
  being asked: only the bundled companies work now), `.snapshots.companies` (the
  companies bundled for offline use, as Matches).
  The ticker's syntax is checked before anything is fetched; its existence and
  quoteType by the first answer of the parallel fetch.
- `CompanyData` (pydantic, frozen): ticker, source ("yfinance" | "snapshot"), as_of
  (date), source_label ("Yahoo Finance as of 2025-02-14" / "offline snapshot as of
  2025-02-14"), fetched_at, profile, quote, statistics, analysts, statements
  ({"income_annual": Statement, ...}), prices (PriceHistory | None), research
  (ResearchData: estimates, earnings_history, recommendation_trend, rating_changes,
  insider_trades, insider_activity, ownership, calendar, filings), gaps (list of
  Gap(part, reason, retryable); part is "prices", a statement name (income_annual,
  income_quarterly, balance_annual, balance_quarterly, cashflow_annual,
  cashflow_quarterly) or a research part (estimates, earnings_history,
  recommendation_trend, rating_changes, holders, calendar, sec_filings)).
  scope ("full" | "peer": a peer's statements, prices and research are left empty on
  purpose). `.to_dict()` is JSON-safe; `CompanyData.from_dict(d)`.
  Units: see frontend_app.market.company (fractions for ratios, major currencies).
- `Match` (frozen): ticker, name, quote_type (Yahoo's: EQUITY, ETF, ...), exchange,
  bundled (works offline); `.fields()` is what the API and the page get.
- `PeerFinder(service, max_peers=5).fetch(ticker, peers=None) -> CompanyAndPeers`:
  the company and its peers fetched at once (see frontend_app.market.peers for who
  the peers are). `PeerSet`: selection ("named" | "recommended" | "sector" | "none"),
  note (how they were chosen, a sentence), companies (list[CompanyData]), left_out
  (list[LeftOut(ticker, reason)]: invalid, unknown, unreachable, other date, too many).
  Only the company's own failure raises. `parse_peer_list("MSFT, goog")`.
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
from .peers import CompanyAndPeers, LeftOut, PeerFinder, PeerSet, parse_peer_list
from .research import ResearchData
from .search import Match
from .service import DataSource, MarketDataService
from .tickers import Ticker, validate_ticker

__all__ = [
    "Analysts",
    "CompanyAndPeers",
    "CompanyData",
    "DataSource",
    "DataSourceUnreachable",
    "Gap",
    "InvalidTicker",
    "KeyStatistics",
    "LeftOut",
    "MarketDataError",
    "MarketDataService",
    "Match",
    "NotAnEquity",
    "NotBundled",
    "PeerFinder",
    "PeerSet",
    "PriceHistory",
    "Profile",
    "Quote",
    "RateLimited",
    "ResearchData",
    "Statement",
    "Ticker",
    "UnknownTicker",
    "parse_peer_list",
    "validate_ticker",
]
