"""The offline source: companies bundled as JSON in frontend_app/snapshots/.

scripts/make_snapshots.py writes them by running the live yfinance path against
recorded Yahoo answers: one `<TICKER>.json` (a CompanyData dict) per equity, and
`index.json` naming the bundled companies (with their as-of dates, names and sectors)
and the instruments refused as non-equities, so offline answers match online ones.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from .company import CompanyData
from .errors import NotAnEquity, NotBundled
from .instruments import WELL_KNOWN_ETFS, quote_type_by_convention
from .search import Match, match_listed

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "snapshots"
INDEX_FILE = "index.json"


def snapshot_label(as_of: str) -> str:
    return f"offline snapshot as of {as_of}"


class SnapshotSource:
    """Reads bundled snapshots; answers like the live source, labelled as a snapshot."""

    def __init__(self, directory: Path = SNAPSHOT_DIR) -> None:
        self.directory = directory

    @cached_property
    def _index(self) -> dict[str, Any]:
        path = self.directory / INDEX_FILE
        if not path.is_file():
            return {"companies": {}, "not_equities": {}, "names": {}, "sectors": {}}
        index: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return index

    def tickers(self) -> list[str]:
        """The bundled companies, sorted."""
        return sorted(self._index["companies"])

    def has(self, ticker: str) -> bool:
        return ticker in self._index["companies"]

    @cached_property
    def companies(self) -> list[Match]:
        """The bundled companies with their names, by ticker."""
        names: dict[str, str] = self._index.get("names", {})
        return [Match(t, names.get(t, t), bundled=True) for t in self.tickers()]

    @cached_property
    def _listing(self) -> list[Match]:
        """What can be found offline: the bundled companies and the well-known funds."""
        funds = [Match(t, name, quote_type="ETF") for t, name in WELL_KNOWN_ETFS.items()]
        return self.companies + funds

    def search(self, query: str, limit: int = 8) -> list[Match]:
        """What `query` names among the bundled companies and well-known funds."""
        return match_listed(query, self._listing, limit)

    def quote_type(self, ticker: str) -> str | None:
        """Yahoo's quoteType of a symbol ERT knows offline: EQUITY for the bundled
        companies, the recorded or evident type of a non-equity, else None."""
        if self.has(ticker):
            return "EQUITY"
        recorded: str | None = self._index["not_equities"].get(ticker)
        return recorded or quote_type_by_convention(ticker)

    def refuse_non_equity(self, ticker: str) -> None:
        """Raise NotAnEquity if `ticker` is known offline not to be a company share."""
        quote_type = self.quote_type(ticker)
        if quote_type is not None and quote_type != "EQUITY":
            raise NotAnEquity(ticker, quote_type)

    def same_sector(self, sector: str | None, exclude: str) -> list[str]:
        """The bundled companies of `sector` but `exclude`, sorted (offline peers)."""
        sectors: dict[str, str] = self._index.get("sectors", {})
        return sorted(t for t, s in sectors.items() if sector and s == sector and t != exclude)

    def fetch(self, ticker: str) -> CompanyData:
        if not self.has(ticker):
            self.refuse_non_equity(ticker)
            suggestions = [m for m in self.search(ticker) if m.bundled]
            raise NotBundled(ticker, suggestions, self.companies)
        data = json.loads((self.directory / f"{ticker}.json").read_text(encoding="utf-8"))
        company = CompanyData.from_dict(data)
        return company.model_copy(
            update={"source": "snapshot", "source_label": snapshot_label(company.as_of.isoformat())}
        )
