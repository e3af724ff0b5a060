"""MarketDataService: the one entry point the dashboard uses for company data."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Literal

import redis

from .cache import Cache, SingleFlight, cache_for
from .company import STATEMENT_PARTS, CompanyData, Scope
from .errors import DataSourceUnreachable, MarketDataError
from .search import Match
from .snapshots import SNAPSHOT_DIR, SnapshotSource
from .tickers import Ticker
from .yahoo import StatementBundle, YahooSource

DataSource = Literal["yfinance", "snapshot", "auto"]

# After Yahoo proved unreachable, "auto" answers without asking it again for this long
# (bundled companies from their snapshots, others with the outage), so each new ticker
# does not wait out the network timeout.
OFFLINE_SECONDS = 60.0
# Yahoo's answers to a search are kept this long; a search may take this long at most.
SEARCH_TTL = 3600.0
SEARCH_TIMEOUT = 5.0

log = logging.getLogger(__name__)


class MarketDataService:
    """Validated, cached, single-flight access to company data.

    source: "yfinance" (live only), "snapshot" (bundled files only) or "auto" (live,
    and the bundled snapshot when Yahoo is unreachable and the ticker is bundled; the
    result then says so in `source` and `source_label`; a ticker that is not bundled
    then fails with the bundled companies as `alternatives`).
    quote_ttl / statement_ttl: seconds a company's quote and its statements stay cached.
    timeout: seconds each upstream call may take.
    shared: the Redis several dashboard instances share (REDIS_URL): the caches and the
    single flight are then theirs, so N instances make one Yahoo call per ticker.
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
        shared: redis.Redis | None = None,
    ) -> None:
        self.source = source
        self.shared = shared
        self.yahoo = YahooSource(timeout=timeout, retries=retries, backoff=backoff)
        self.snapshots = SnapshotSource(snapshot_dir)
        self._companies: Cache[CompanyData] = cache_for(shared, "full", quote_ttl, CompanyData)
        # scope "peer"
        self._peers: Cache[CompanyData] = cache_for(shared, "peer", quote_ttl, CompanyData)
        self._statements: Cache[StatementBundle] = cache_for(
            shared, "statements", statement_ttl, StatementBundle
        )
        self._searches: Cache[list[Match]] = cache_for(shared, "search", SEARCH_TTL, list[Match])
        self._flights: SingleFlight[CompanyData] = SingleFlight(shared)
        self._state_lock = threading.Lock()
        self._offline_until = 0.0
        self._outage: DataSourceUnreachable | None = None  # Yahoo's last failure, until it answers

    def get_company(self, ticker: Ticker, *, scope: Scope = "full") -> CompanyData:
        """Company data for `ticker`, raising a MarketDataError subclass when there is none.

        scope "peer": the quote, key statistics and profile only (one upstream call), for
        a report's peers; a full company already at hand serves it too.
        """
        cached = self._company(ticker, scope)
        if cached is not None:
            return cached
        return self._flights.run(f"{ticker}:{scope}", lambda: self._load(ticker, scope))

    def _company(self, ticker: Ticker, scope: Scope) -> CompanyData | None:
        full = self._companies.get(ticker)
        if full is not None or scope == "full":
            return full
        return self._peers.get(ticker)

    @property
    def offline(self) -> bool:
        """True while Yahoo is not being asked: snapshot mode, or auto after an outage."""
        if self.source == "snapshot":
            return True
        return self.source == "auto" and time.monotonic() < self._offline_until

    def search(self, query: str, limit: int = 8) -> list[Match]:
        """Companies (and other instruments, marked by quote_type) that `query` may name, best
        first: from Yahoo's search, or offline from the bundled companies and known funds."""
        text = " ".join(query.split())[:64]
        if not text:
            return []
        if not self.offline:
            key = text.casefold()
            found = self._searches.get(key)
            if found is not None:
                return found
            try:
                found = self.yahoo.search(
                    text, set(self.snapshots.tickers()), limit, timeout=SEARCH_TIMEOUT
                )
            except DataSourceUnreachable as outage:
                self._note_outage(outage)
            except MarketDataError:
                pass  # rate-limited: the bundled companies still answer
            else:
                self._note_answer()
                self._searches.set(key, found)
                return found
        return self.snapshots.search(text, limit) if self.source != "yfinance" else []

    def _load(self, ticker: Ticker, scope: Scope) -> CompanyData:
        cached = self._company(ticker, scope)  # a flight that just ended may have it
        if cached is not None:
            return cached
        if self.source == "snapshot":
            company = self.snapshots.fetch(ticker)
        else:
            company = self._fetch_live(ticker, scope)
        (self._companies if company.scope == "full" else self._peers).set(ticker, company)
        return company

    def _fetch_live(self, ticker: Ticker, scope: Scope) -> CompanyData:
        outage = self._outage if self.offline else None
        if outage is None:
            try:
                statements = self._statements.get(ticker)
                company = self.yahoo.fetch(ticker, statements, scope=scope)
            except DataSourceUnreachable as failed:
                self._note_outage(failed)
                if self.source != "auto":
                    raise
                outage = failed
            else:
                self._note_answer()
                if scope == "full":
                    self._keep_statements(ticker, company)
                return company
        return self._without_yahoo(ticker, outage, scope)

    def _without_yahoo(
        self, ticker: Ticker, outage: DataSourceUnreachable, scope: Scope
    ) -> CompanyData:
        """While Yahoo fails ("auto"): the bundled snapshot, a refusal of a non-equity known
        offline, or the outage, offering the bundled companies to a person who asked for
        this one (not for a peer)."""
        if self.snapshots.has(ticker):
            return self.snapshots.fetch(ticker)
        self.snapshots.refuse_non_equity(ticker)
        if scope != "full":
            raise outage
        suggestions = [m for m in self.snapshots.search(ticker) if m.bundled]
        raise outage.with_choices(suggestions, self.snapshots.companies)

    def _keep_statements(self, ticker: Ticker, company: CompanyData) -> None:
        bundle = StatementBundle(
            statements=company.statements,
            gaps=[gap for gap in company.gaps if gap.part in STATEMENT_PARTS],
        )
        if bundle.complete and self._statements.get(ticker) is None:
            self._statements.set(ticker, bundle)

    def _note_outage(self, outage: DataSourceUnreachable) -> None:
        """Remember that Yahoo failed; log it once per kind of failure, not per request."""
        with self._state_lock:
            logged = self._outage is not None and self._outage.outage == outage.outage
            self._outage = outage
            self._offline_until = time.monotonic() + OFFLINE_SECONDS
        if not logged:
            then = (
                "the bundled companies are served until it answers"
                if self.source == "auto"
                else "reports fail until it answers"
            )
            log.warning("%s; %s", outage.message, then)

    def _note_answer(self) -> None:
        with self._state_lock:
            recovered, self._outage = self._outage is not None, None
            self._offline_until = 0.0
        if recovered:
            log.info("Yahoo Finance answers again")
