"""The offline source: companies bundled as JSON in frontend_app/snapshots/.

scripts/make_snapshots.py writes them by running the live yfinance path against
recorded Yahoo answers: one `<TICKER>.json` (a CompanyData dict) per equity, and
`index.json` naming the bundled companies (with their as-of dates and sectors) and
the instruments refused as non-equities, so offline answers match online ones.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from .company import CompanyData
from .errors import NotAnEquity, UnknownTicker
from .tickers import close_matches

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
            return {"companies": {}, "not_equities": {}, "sectors": {}}
        index: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return index

    def tickers(self) -> list[str]:
        """The bundled companies, sorted."""
        return sorted(self._index["companies"])

    def has(self, ticker: str) -> bool:
        return ticker in self._index["companies"]

    def same_sector(self, sector: str | None, exclude: str) -> list[str]:
        """The bundled companies of `sector` but `exclude`, sorted (offline peers)."""
        sectors: dict[str, str] = self._index.get("sectors", {})
        return sorted(t for t, s in sectors.items() if sector and s == sector and t != exclude)

    def fetch(self, ticker: str) -> CompanyData:
        if not self.has(ticker):
            quote_type = self._index["not_equities"].get(ticker)
            if quote_type:
                raise NotAnEquity(ticker, quote_type)
            raise UnknownTicker(ticker, close_matches(ticker, self.tickers()))
        data = json.loads((self.directory / f"{ticker}.json").read_text(encoding="utf-8"))
        company = CompanyData.from_dict(data)
        return company.model_copy(
            update={"source": "snapshot", "source_label": snapshot_label(company.as_of.isoformat())}
        )
