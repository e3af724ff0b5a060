"""Ticker syntax check (before anything is fetched) and close matches for typos."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NewType

from vast_ai.schemas import normalise_ticker

from .errors import InvalidTicker

# A ticker that validate_ticker accepted: checked once where it enters, then carried.
Ticker = NewType("Ticker", str)


def validate_ticker(raw: str) -> Ticker:
    """Trim and upper-case `raw`, or raise InvalidTicker saying what is wrong.

    The syntax is the wire format's (vast_ai.schemas): 1-12 of A-Z 0-9 . - ^ =.
    """
    try:
        return Ticker(normalise_ticker(raw))
    except ValueError as error:
        shown = raw.strip()[:20] if isinstance(raw, str) else ""
        prefix = f"'{shown}' is not a valid ticker: " if shown else "Not a valid ticker: "
        raise InvalidTicker(prefix + str(error)) from None


def close_matches(ticker: str, known: Iterable[str], limit: int = 5) -> list[str]:
    """Known tickers that look like `ticker` (typos, a missing exchange suffix)."""
    known = list(known)
    prefixed = [k for k in known if k.split(".")[0] == ticker and k != ticker]
    similar = difflib.get_close_matches(ticker, known, n=limit, cutoff=0.5)
    return list(dict.fromkeys(prefixed + [s for s in similar if s != ticker]))[:limit]
