"""Why market data could not be had, in words a user can act on.

Every error carries a stable `code` (for the API and Socket.IO `failed` events)
and a user-facing `message`; none of them carries a stack trace to the user.
"""

from __future__ import annotations

from typing import Any

from frontend_app.errors import ErtError


class MarketDataError(ErtError):
    """Base class; each kind has its own `code` and `retryable`."""

    code = "market_data_error"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(type(self).code, message, retryable=type(self).retryable)


class InvalidTicker(MarketDataError):
    code = "invalid_ticker"


class UnknownTicker(MarketDataError):
    code = "unknown_ticker"

    def __init__(self, ticker: str, suggestions: list[str] | None = None) -> None:
        super().__init__(f"No company found for '{ticker}'")
        self.ticker = ticker
        self.suggestions = suggestions or []

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "suggestions": self.suggestions}


# Yahoo's quoteType, in the words of the refusal message.
_INSTRUMENT_NAMES = {
    "ETF": "an ETF",
    "MUTUALFUND": "a mutual fund",
    "CURRENCY": "a currency",
    "CRYPTOCURRENCY": "a cryptocurrency",
    "FUTURE": "a futures contract",
    "INDEX": "an index",
    "OPTION": "an option",
    "MONEYMARKET": "a money market fund",
}


class NotAnEquity(MarketDataError):
    code = "not_an_equity"

    def __init__(self, ticker: str, quote_type: str) -> None:
        kind = _INSTRUMENT_NAMES.get(quote_type.upper(), f"not a company share ({quote_type})")
        super().__init__(f"ERT writes equity research; {ticker} is {kind}")
        self.ticker = ticker
        self.quote_type = quote_type


class RateLimited(MarketDataError):
    code = "rate_limited"
    retryable = True

    def __init__(self) -> None:
        super().__init__("Yahoo Finance is rate-limiting this server; try again in a minute")


class DataSourceUnreachable(MarketDataError):
    code = "data_source_unreachable"
    retryable = True

    def __init__(self, detail: str = "") -> None:
        message = "Yahoo Finance is unreachable"
        message += f" ({detail}); try again later" if detail else "; try again later"
        super().__init__(message)
