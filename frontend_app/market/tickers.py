"""Ticker syntax check, before anything is fetched."""

from __future__ import annotations

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
