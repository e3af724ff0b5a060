"""MarketDataService: the one entry point the dashboard uses for company data."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Literal, TypeVar

from cachetools import TTLCache

from .cache import SingleFlight
from .company import STATEMENT_PARTS, CompanyData, Scope
from .errors import DataSourceUnreachable
from .snapshots import SNAPSHOT_DIR, SnapshotSource
from .tickers import Ticker
from .yahoo import StatementBundle, YahooSource

DataSource = Literal["yfinance", "snapshot", "auto"]
V = TypeVar("V")

# After Yahoo proved unreachable, "auto" serves bundled companies without asking it
# again for this long, so each new ticker does not wait out the network timeout.
OFFLINE_SECONDS = 60.0
# Companies kept in each cache at most (the least recently used go first).
CACHE_SIZE = 512

log = logging.getLogger(__name__)


class MarketDataService:
    """Validated, cached, single-flight access to company data.

    source: "yfinance" (live only), "snapshot" (bundled files only) or "auto" (live,
    and the bundled snapshot when Yahoo is unreachable and the ticker is bundled; the
    result then says so in `source` and `source_label`).
    quote_ttl / statement_ttl: seconds a company's quote and its statements stay cached.
    timeout: seconds each upstream call may take.
    One instance is meant to be shared by the whole process.
    """

    def __init__(
        self,
        source: DataSource = "auto",
        quote_ttl: float = 900,
        statement_ttl: float = 86400,
        timeout: float = 15.0,
        *,
        retries: int = 2,
        backoff: float = 1.0,
        snapshot_dir: Path = SNAPSHOT_DIR,
    ) -> None:
        self.source = source
        self.yahoo = YahooSource(timeout=timeout, retries=retries, backoff=backoff)
        self.snapshots = SnapshotSource(snapshot_dir)
        self._companies: TTLCache[str, CompanyData] = TTLCache(CACHE_SIZE, quote_ttl)
        self._peers: TTLCache[str, CompanyData] = TTLCache(CACHE_SIZE, quote_ttl)  # scope "peer"
        self._statements: TTLCache[str, StatementBundle] = TTLCache(CACHE_SIZE, statement_ttl)
        self._cache_lock = threading.Lock()  # cachetools' caches are not thread-safe
        self._flights: SingleFlight[CompanyData] = SingleFlight()
        self._offline_until = 0.0

    def get_company(self, ticker: Ticker, *, scope: Scope = "full") -> CompanyData:
        """Company data for `ticker`, raising a MarketDataError subclass when there is none.

        scope "peer": the quote, key statistics and profile only (one upstream call), for
        a report's peers; a full company already at hand serves it too.
        """
        cached = self._company(ticker, scope)
        if cached is not None:
            return cached
        return self._flights.run((ticker, scope), lambda: self._load(ticker, scope))

    def _company(self, ticker: Ticker, scope: Scope) -> CompanyData | None:
        full = self._cached(self._companies, ticker)
        if full is not None or scope == "full":
            return full
        return self._cached(self._peers, ticker)

    @property
    def offline(self) -> bool:
        """True while Yahoo is not being asked: snapshot mode, or auto after an outage."""
        if self.source == "snapshot":
            return True
        return self.source == "auto" and time.monotonic() < self._offline_until

    def _cached(self, cache: TTLCache[str, V], ticker: str) -> V | None:
        with self._cache_lock:
            return cache.get(ticker)

    def _keep(self, cache: TTLCache[str, V], ticker: str, value: V) -> None:
        with self._cache_lock:
            cache[ticker] = value

    def _load(self, ticker: Ticker, scope: Scope) -> CompanyData:
        cached = self._company(ticker, scope)  # a flight that just ended may have it
        if cached is not None:
            return cached
        if self.source == "snapshot":
            company = self.snapshots.fetch(ticker)
        else:
            company = self._fetch_live(ticker, scope)
        self._keep(self._companies if company.scope == "full" else self._peers, ticker, company)
        return company

    def _fetch_live(self, ticker: Ticker, scope: Scope) -> CompanyData:
        if self.offline and self.snapshots.has(ticker):
            return self.snapshots.fetch(ticker)
        try:
            statements = self._cached(self._statements, ticker)
            company = self.yahoo.fetch(ticker, statements, scope=scope)
        except DataSourceUnreachable:
            self._offline_until = time.monotonic() + OFFLINE_SECONDS
            if self.source == "auto" and self.snapshots.has(ticker):
                log.warning("Yahoo Finance unreachable; serving the bundled snapshot of %s", ticker)
                return self.snapshots.fetch(ticker)
            raise
        if scope != "full":
            return company
        bundle = StatementBundle(
            statements=company.statements,
            gaps=[gap for gap in company.gaps if gap.part in STATEMENT_PARTS],
        )
        if bundle.complete and self._cached(self._statements, ticker) is None:
            self._keep(self._statements, ticker, bundle)
        return company
