"""Peer sets: the companies a report compares its company with, fetched beside it.

Who the peers are, in this order:
- named for the report ("MSFT, GOOG"): those, each checked like any ticker;
- otherwise, while Yahoo answers: the similar companies Yahoo recommends for the ticker;
- offline (the company came from a bundled snapshot): the bundled companies of its
  sector; Yahoo's recommendations are never mixed with snapshots;
- otherwise none, and the set says why.
At most `max_peers`. A peer that is invalid, unknown, not an equity, cannot be fetched
or whose data is of another date or source than the company's is left out with the
reason; none of that fails the report (only the company's own failure does).

The company and its peers are fetched at once in a thread pool (green threads under
eventlet, like YahooSource's parts), each through the service's cache and single
flight; without named peers, Yahoo's recommendation is asked beside the company and
its peers are fetched as soon as it answers, not after the company. A peer is fetched
with scope "peer" (its quote, key statistics and profile: one upstream call), which is
all a comparison needs, unless its full data is already cached.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .cache import Cache, SingleFlight, cache_for
from .company import CompanyData
from .errors import MarketDataError
from .service import MarketDataService
from .tickers import Ticker, validate_ticker

MAX_PEERS = 5
# Peers whose data is more than this many days from the company's are left out.
MAX_DATE_GAP_DAYS = 7
RECOMMENDATION_TTL = 86400.0

PeerSelection = Literal["named", "recommended", "sector", "none"]

log = logging.getLogger(__name__)


class LeftOut(BaseModel):
    """A peer that is not compared, and why, in words for the reader."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticker: str
    reason: str


class PeerSet(BaseModel):
    """The peers of one report: how they were chosen, who they are, who was left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selection: PeerSelection
    note: str
    companies: list[CompanyData] = Field(default_factory=list)
    left_out: list[LeftOut] = Field(default_factory=list)

    @property
    def tickers(self) -> list[str]:
        return [company.ticker for company in self.companies]


@dataclass(frozen=True)
class Choice:
    """Which peers to fetch, and how they were chosen."""

    tickers: list[Ticker]
    selection: PeerSelection
    note: str


NAMED_NOTE = "Peers named for this report"


class CompanyAndPeers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    company: CompanyData
    peers: PeerSet


def parse_peer_list(raw: str | Sequence[str]) -> tuple[list[Ticker], list[LeftOut]]:
    """Tickers named for a report ("MSFT, goog; SAP.DE"), upper-cased and deduplicated,
    and the ones that are not valid tickers with the reason."""
    items = re.split(r"[\s,;]+", raw) if isinstance(raw, str) else list(raw)
    tickers: list[Ticker] = []
    invalid: list[LeftOut] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            symbol = validate_ticker(item)
        except MarketDataError as error:
            invalid.append(LeftOut(ticker=item.strip()[:20], reason=error.message))
            continue
        if symbol not in tickers:
            tickers.append(symbol)
    return tickers, invalid


def date_mismatch(company: CompanyData, peer: CompanyData) -> str | None:
    """Why a peer's figures cannot stand beside the company's, or None when they can."""
    if peer.source != company.source:
        return f"its data ({peer.source_label}) is not from the company's source"
    gap = abs((peer.as_of - company.as_of).days)
    if gap > MAX_DATE_GAP_DAYS:
        return (
            f"its data is as of {peer.as_of.isoformat()}, {gap} days from the company's "
            f"({company.as_of.isoformat()})"
        )
    return None


class PeerFinder:
    """Fetches a company with its peers; one per process, beside the MarketDataService."""

    def __init__(self, service: MarketDataService, max_peers: int = MAX_PEERS) -> None:
        self.service = service
        self.max_peers = max_peers
        self._recommended: Cache[list[str]] = cache_for(
            service.shared, "recommended", RECOMMENDATION_TTL, list[str]
        )
        self._flights: SingleFlight[list[str]] = SingleFlight(service.shared)

    def fetch(self, ticker: str, peers: str | Sequence[str] | None = None) -> CompanyAndPeers:
        """The company (raising MarketDataError as get_company does) and its PeerSet.

        `peers`: tickers named for the report ("MSFT, GOOG" or a list); None or empty
        lets ERT choose.
        """
        symbol = validate_ticker(ticker)
        named, left_out = parse_peer_list(peers or [])
        pool = ThreadPoolExecutor(max_workers=2 + self.max_peers, thread_name_prefix="peers")
        try:
            company_future = pool.submit(self.service.get_company, symbol)
            if named or left_out:
                choice = Choice(self._limit(symbol, named, left_out), "named", NAMED_NOTE)
            elif self.service.offline:
                choice = None  # the company will come from a snapshot: its sector, below
            else:
                choice = self._recommended_peers(pool, symbol, left_out)
            futures = self._submit(pool, choice)
            company = company_future.result()
            if choice is None or (company.source == "snapshot" and choice.selection != "named"):
                for future in futures.values():
                    future.cancel()
                if company.source == "snapshot":
                    choice = self._sector_peers(company)
                else:  # Yahoo came back while the company was fetched
                    choice = self._recommended_peers(pool, symbol, left_out)
                futures = self._submit(pool, choice)
            companies = self._collect(company, futures, left_out)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        assert choice is not None
        peer_set = PeerSet(
            selection=choice.selection, note=choice.note, companies=companies, left_out=left_out
        )
        return CompanyAndPeers(company=company, peers=peer_set)

    def _submit(
        self, pool: ThreadPoolExecutor, choice: Choice | None
    ) -> dict[str, Future[CompanyData]]:
        tickers = [] if choice is None else choice.tickers
        return {peer: pool.submit(self.service.get_company, peer, scope="peer") for peer in tickers}

    def _limit(
        self, symbol: Ticker, candidates: list[Ticker], left_out: list[LeftOut]
    ) -> list[Ticker]:
        others = [peer for peer in candidates if peer != symbol]
        if len(others) < len(candidates):
            left_out.append(LeftOut(ticker=symbol, reason="it is the company itself"))
        for extra in others[self.max_peers :]:
            left_out.append(
                LeftOut(ticker=extra, reason=f"at most {self.max_peers} peers are compared")
            )
        return others[: self.max_peers]

    def _recommended_peers(
        self, pool: ThreadPoolExecutor, symbol: Ticker, left_out: list[LeftOut]
    ) -> Choice:
        try:
            symbols, invalid = parse_peer_list(pool.submit(self.recommended, symbol).result())
        except MarketDataError as error:
            reason = f"Yahoo Finance's similar companies could not be had ({error.message})"
            return Choice([], "none", f"No peers: {reason}")
        left_out.extend(invalid)
        if not symbols:
            return Choice([], "none", f"No peers: Yahoo Finance recommends none for {symbol}")
        note = f"Similar companies Yahoo Finance recommends for {symbol}"
        return Choice(symbols[: self.max_peers], "recommended", note)

    def recommended(self, symbol: str) -> list[str]:
        """Yahoo's similar companies for `symbol`, cached for a day, asked once at a time."""
        cached = self._recommended.get(symbol)
        if cached is not None:
            return cached

        def load() -> list[str]:
            found = self._recommended.get(symbol)  # another instance may just have asked
            if found is not None:
                return found
            symbols = self.service.yahoo.recommended(symbol)
            self._recommended.set(symbol, symbols)
            return symbols

        return self._flights.run(symbol, load)

    def _sector_peers(self, company: CompanyData) -> Choice:
        sector = company.profile.sector
        if not sector:
            return Choice([], "none", "No peers: offline, and the company's sector is not known")
        bundled, _ = parse_peer_list(self.service.snapshots.same_sector(sector, company.ticker))
        if not bundled:
            return Choice(
                [], "none", f"No peers: offline, and no other bundled company is in {sector}"
            )
        note = f"Offline: the bundled companies of the same sector ({sector})"
        return Choice(bundled[: self.max_peers], "sector", note)

    @staticmethod
    def _collect(
        company: CompanyData, futures: dict[str, Future[CompanyData]], left_out: list[LeftOut]
    ) -> list[CompanyData]:
        companies = []
        for ticker, future in futures.items():
            try:
                peer = future.result()
            except MarketDataError as error:
                left_out.append(LeftOut(ticker=ticker, reason=error.message))
                continue
            except Exception:  # a peer never fails the report; the log keeps the trace
                log.exception("Fetching peer %s failed", ticker)
                left_out.append(LeftOut(ticker=ticker, reason="its data could not be read"))
                continue
            reason = date_mismatch(company, peer)
            if reason is None:
                companies.append(peer)
            else:
                left_out.append(LeftOut(ticker=ticker, reason=reason))
        return companies
