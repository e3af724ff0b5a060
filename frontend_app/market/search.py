"""Finding companies by what a person types: a ticker, the start of one, or a name.

Online the answers come from Yahoo's search (YahooSource.search); offline from the
companies bundled with ERT and the well-known funds (`match_listed`). Either way a
`Match` says what the symbol is (Yahoo's quoteType) and whether it works offline.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

# Yahoo's quoteType of the instruments ERT writes about.
EQUITY = "EQUITY"


@dataclass(frozen=True)
class Match:
    ticker: str
    name: str
    quote_type: str = EQUITY
    exchange: str | None = None
    bundled: bool = False  # one of the companies bundled for offline use

    @property
    def equity(self) -> bool:
        return self.quote_type == EQUITY

    def fields(self) -> dict[str, Any]:
        """As the API, the Socket.IO events and the page see it."""
        return asdict(self)


def _words(name: str) -> list[str]:
    return re.findall(r"[\w&]+", name.casefold())


def _matches_name(query: str, name: str) -> bool:
    """Each word typed starts a word of the name, in order ("apple", "apple inc", "spot")."""
    typed, words = _words(query), _words(name)
    return bool(typed) and any(
        all(start + i < len(words) and words[start + i].startswith(w) for i, w in enumerate(typed))
        for start in range(len(words))
    )


def match_listed(query: str, listing: Iterable[Match], limit: int = 8) -> list[Match]:
    """The listed instruments `query` names: its ticker, the start of a ticker, or words of
    a name; failing those, tickers one typo away. Best first, equities before funds."""
    text = query.strip()
    if not text:
        return []
    symbol = text.upper()
    listed = list(listing)
    exact = [m for m in listed if m.ticker == symbol]
    starting = [m for m in listed if m.ticker.startswith(symbol) and m.ticker != symbol]
    named = [m for m in listed if _matches_name(text, m.name)]
    found = list(dict.fromkeys(exact + starting + named))
    if not found:
        close = difflib.get_close_matches(symbol, [m.ticker for m in listed], n=limit, cutoff=0.75)
        found = [m for ticker in close for m in listed if m.ticker == ticker]
    found.sort(key=lambda m: (m not in exact, not m.equity))
    return found[:limit]


def matches_from_yahoo(quotes: Iterable[Mapping[str, Any]], bundled: set[str]) -> list[Match]:
    """Yahoo search's quotes as matches: options dropped (a listing's derivatives)."""
    found: dict[str, Match] = {}
    for quote in quotes:
        ticker, kind = quote.get("symbol"), quote.get("quoteType")
        if not isinstance(ticker, str) or not isinstance(kind, str) or kind == "OPTION":
            continue
        name = quote.get("longname") or quote.get("shortname") or ticker
        exchange = quote.get("exchDisp")
        found.setdefault(
            ticker,
            Match(
                ticker=ticker,
                name=str(name),
                quote_type=kind.upper(),
                exchange=exchange if isinstance(exchange, str) else None,
                bundled=ticker in bundled,
            ),
        )
    return list(found.values())
