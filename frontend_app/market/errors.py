"""Why market data could not be had, in words a user can act on.

Every error carries a stable `code` (for the API and Socket.IO `failed` events)
and a user-facing `message`; none of them carries a stack trace to the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from frontend_app.errors import ErtError

from .search import Match

# Why Yahoo Finance could not be used; each has its own words and advice.
Outage = Literal["no_network", "timeout", "yahoo_error", "unreadable"]


class MarketDataError(ErtError):
    """Base class; each kind has its own `code` and `retryable`."""

    code = "market_data_error"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(type(self).code, message, retryable=type(self).retryable)


class InvalidTicker(MarketDataError):
    code = "invalid_ticker"


class _WithChoices(MarketDataError):
    """An error that offers companies to pick instead: `suggestions` (what the person may
    have meant) and `alternatives` (the bundled companies, when only those work)."""

    def __init__(
        self, message: str, suggestions: Sequence[Match] = (), alternatives: Sequence[Match] = ()
    ) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)
        self.alternatives = list(alternatives)

    def fields(self) -> dict[str, Any]:
        return {
            **super().fields(),
            "suggestions": [m.fields() for m in self.suggestions],
            "alternatives": [m.fields() for m in self.alternatives],
        }


class UnknownTicker(_WithChoices):
    code = "unknown_ticker"

    def __init__(self, ticker: str, suggestions: Sequence[Match] = ()) -> None:
        super().__init__(f"No company found for '{ticker}'", suggestions)
        self.ticker = ticker


class NotBundled(_WithChoices):
    """ERT_DATA_SOURCE=snapshot: only the bundled companies can be written about."""

    code = "not_bundled"

    def __init__(
        self, ticker: str, suggestions: Sequence[Match], alternatives: Sequence[Match]
    ) -> None:
        super().__init__(
            f"{ticker} is not one of the companies bundled with ERT, and this server reads "
            "only those (ERT_DATA_SOURCE=snapshot); pick one of them",
            suggestions,
            alternatives,
        )
        self.ticker = ticker


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


_OUTAGE_MESSAGES: dict[Outage, str] = {
    "no_network": "Yahoo Finance cannot be reached: this server seems to be offline ({detail})",
    "timeout": "Yahoo Finance did not answer ({detail}); try again in a minute",
    "yahoo_error": "Yahoo Finance is having trouble ({detail}); try again in a few minutes",
    "unreadable": (
        "Yahoo Finance sent an answer ERT could not read ({detail}); try again later, "
        "and update ERT if it keeps happening"
    ),
}


class DataSourceUnreachable(_WithChoices):
    """Yahoo Finance could not be used, and why (`outage`). When the bundled companies can
    be written about instead, they are the `alternatives` and the message says so."""

    code = "data_source_unreachable"

    def __init__(
        self,
        outage: Outage,
        detail: str,
        suggestions: Sequence[Match] = (),
        alternatives: Sequence[Match] = (),
    ) -> None:
        message = _OUTAGE_MESSAGES[outage].format(detail=detail)
        if alternatives:
            message += (
                f". Until it answers, ERT can write about the {len(alternatives)} companies "
                "bundled with it"
            )
        super().__init__(message, suggestions, alternatives)
        self.outage = outage
        self.detail = detail
        # Offline, asking again soon will not help; a slow or failing Yahoo may recover.
        self.retryable = outage != "no_network"

    def with_choices(
        self, suggestions: Sequence[Match], alternatives: Sequence[Match]
    ) -> DataSourceUnreachable:
        """The same outage, offering the companies that work without Yahoo."""
        return DataSourceUnreachable(self.outage, self.detail, suggestions, alternatives)

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "outage": self.outage}
