"""MarketDataService: the one entry point the dashboard uses for company data."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

from .cache import SingleFlight, TTLCache
from .company import STATEMENT_PARTS, CompanyData
from .errors import DataSourceUnreachable
from .snapshots import SNAPSHOT_DIR, SnapshotSource
from .tickers import validate_ticker
from .yahoo import StatementBundle, YahooSource

DataSource = Literal["yfinance", "snapshot", "auto"]

# After Yahoo proved unreachable, "auto" serves bundled companies without asking it
# again for this long, so each new ticker does not wait out the network timeout.
OFFLINE_SECONDS = 60.0

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
        self.quote_ttl = quote_ttl
        self.statement_ttl = statement_ttl
        self.yahoo = YahooSource(timeout=timeout, retries=retries, backoff=backoff)
        self.snapshots = SnapshotSource(snapshot_dir)
        self._companies: TTLCache[CompanyData] = TTLCache()
        self._statements: TTLCache[StatementBundle] = TTLCache()
        self._flights: SingleFlight[CompanyData] = SingleFlight()
        self._offline_until = 0.0

    def get_company(self, ticker: str) -> CompanyData:
        """Company data for `ticker`, raising a MarketDataError subclass when there is none."""
        symbol = validate_ticker(ticker)
        cached = self._companies.get(symbol)
        if cached is not None:
            return cached
        return self._flights.run(symbol, lambda: self._load(symbol))

    def clear_cache(self) -> None:
        self._companies.clear()
        self._statements.clear()

    def _load(self, ticker: str) -> CompanyData:
        cached = self._companies.get(ticker)  # a flight that just ended may have filled it
        if cached is not None:
            return cached
        if self.source == "snapshot":
            company = self.snapshots.fetch(ticker)
        else:
            company = self._fetch_live(ticker)
        self._companies.put(ticker, company, self.quote_ttl)
        return company

    def _fetch_live(self, ticker: str) -> CompanyData:
        offline = self.source == "auto" and time.monotonic() < self._offline_until
        if offline and self.snapshots.has(ticker):
            return self.snapshots.fetch(ticker)
        try:
            company = self.yahoo.fetch(ticker, self._statements.get(ticker))
        except DataSourceUnreachable:
            self._offline_until = time.monotonic() + OFFLINE_SECONDS
            if self.source == "auto" and self.snapshots.has(ticker):
                log.warning("Yahoo Finance unreachable; serving the bundled snapshot of %s", ticker)
                return self.snapshots.fetch(ticker)
            raise
        bundle = StatementBundle(
            statements=company.statements,
            gaps=[gap for gap in company.gaps if gap.part in STATEMENT_PARTS],
        )
        if bundle.complete and self._statements.get(ticker) is None:
            self._statements.put(ticker, bundle, self.statement_ttl)
        return company
