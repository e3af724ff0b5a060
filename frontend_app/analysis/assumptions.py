"""The valuation's settings, in one place: typed defaults the dashboard's settings override.

Every rate a report uses is shown with its source and its date, or as an ERT default.
The market rates below are rounded values of mid-February 2025 (the bundled
snapshots' date); a report on later data says how old they are, and the dashboard's
settings should carry current ones (see `ValuationSettings` for what each is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from .formatting import percent

RATES_DATE = date(2025, 2, 14)


@dataclass(frozen=True)
class Rate:
    """A market rate with where it comes from; `as_of` None means an undated default."""

    value: float
    source: str
    as_of: date | None = None

    @property
    def dated(self) -> str:
        return self.as_of.isoformat() if self.as_of else "ERT default"

    @property
    def period(self) -> str:
        """The rate's period as a fact gives it: "as of 2025-02-14" or "ERT default"."""
        return f"as of {self.as_of.isoformat()}" if self.as_of else "ERT default"

    def describe(self) -> str:
        """'4.5% (10-year US Treasury yield, 2025-02-14)'."""
        return f"{percent(self.value)} ({self.source}, {self.dated})"


def _government_bond(value: float, issuer: str) -> Rate:
    return Rate(value, f"10-year {issuer} government bond yield, rounded", RATES_DATE)


# Risk-free rate by the currency of the cash flows: a DCF in a currency without one
# is not meaningful (a USD rate would misprice a JPY company by the inflation gap).
RISK_FREE_RATES: Mapping[str, Rate] = MappingProxyType(
    {
        "USD": Rate(0.045, "10-year US Treasury yield, rounded", RATES_DATE),
        "EUR": _government_bond(0.024, "German"),
        "GBP": _government_bond(0.045, "UK gilt"),
        "JPY": _government_bond(0.0135, "Japanese"),
        "CHF": _government_bond(0.004, "Swiss"),
        "CAD": _government_bond(0.031, "Canadian"),
        "AUD": _government_bond(0.045, "Australian"),
        "DKK": _government_bond(0.023, "Danish"),
        "SEK": _government_bond(0.024, "Swedish"),
        "NOK": _government_bond(0.039, "Norwegian"),
    }
)
EQUITY_RISK_PREMIUM = Rate(
    0.0433, "implied equity risk premium of the S&P 500 (Damodaran)", date(2025, 1, 1)
)
# Long-run nominal growth of the cash flows after the forecast years; never above the
# currency's risk-free rate (no company outgrows its economy for ever).
TERMINAL_GROWTH = 0.025
FORECAST_YEARS = 5
# When Yahoo has no usable beta, the market's own.
DEFAULT_BETA = 1.0
# When no fiscal year reports both interest expense and debt: the risk-free rate plus this.
DEFAULT_CREDIT_SPREAD = 0.015
# When no positive pre-tax income is reported, a statutory-like rate.
DEFAULT_TAX_RATE = 0.21
# An effective tax rate above this is a one-off (a repatriation charge), not a rate.
MAX_TAX_RATE = 0.40
# The discount rate must exceed terminal growth by this much, or the terminal value is
# the whole valuation.
MIN_RATE_SPREAD = 0.01
# The sensitivity grid: this step around the base, this many steps each way (5 x 5).
SENSITIVITY_STEP = 0.005
SENSITIVITY_STEPS = 2
# The price target's weights by method group. The DCF is the only method that values
# the company's own cash flows; peers anchor it to today's market; the company's own
# past multiples drift with rates and the cycle, so count least. Groups that are not
# meaningful for a company drop out and the others are scaled up to 100%.
VALUATION_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"dcf": 0.5, "peers": 0.3, "history": 0.2}
)
# Market rates older than this beside the company's data are flagged in the report.
STALE_RATE_DAYS = 365


@dataclass(frozen=True)
class ValuationSettings:
    """What a valuation assumes; the defaults above unless the dashboard's settings say.

    risk_free_rates: Rate by currency code; equity_risk_premium: Rate;
    terminal_growth: fraction a year; forecast_years: explicit DCF years;
    weights: {"dcf", "peers", "history"} -> weight (any scale; normalised).
    """

    risk_free_rates: Mapping[str, Rate] = field(default_factory=lambda: RISK_FREE_RATES)
    equity_risk_premium: Rate = EQUITY_RISK_PREMIUM
    terminal_growth: float = TERMINAL_GROWTH
    forecast_years: int = FORECAST_YEARS
    weights: Mapping[str, float] = field(default_factory=lambda: VALUATION_WEIGHTS)

    def __post_init__(self) -> None:
        if not 0 <= self.terminal_growth < 0.1:
            raise ValueError("terminal growth must be between 0% and 10%")
        if not 2 <= self.forecast_years <= 15:
            raise ValueError("forecast years must be between 2 and 15")
        if set(self.weights) != set(VALUATION_WEIGHTS) or min(self.weights.values()) < 0:
            raise ValueError("weights must give dcf, peers and history, none negative")
        if not sum(self.weights.values()) > 0:
            raise ValueError("weights must not all be zero")


DEFAULT_SETTINGS = ValuationSettings()
