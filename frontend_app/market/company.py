"""CompanyData: everything ERT knows about one company, in consistent units.

Units (fixed by frontend_app.market.normalise, the one place raw values are converted):
ratios and margins are fractions (0.243 = 24.3%); prices, per-share figures and
market cap are in `Quote.currency`, always a major currency (GBP, never GBp pence);
statement figures and TTM totals are in their own `currency` (the company's
reporting currency, which may differ from the trading currency: BABA trades in USD
and reports in CNY). A missing figure is None, never 0.

The model is JSON-serialisable (`to_dict` / `from_dict`) because reports store
their inputs and the offline snapshots are these dicts on disk.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .research import ResearchData

Frequency = Literal["annual", "quarterly"]
# "full": everything a report needs; "peer": the quote, key statistics and profile only
# (what a comparison needs), so a report's peers cost one upstream call each.
Scope = Literal["full", "peer"]
StatementKind = Literal["income", "balance", "cashflow"]
STATEMENT_KINDS: tuple[StatementKind, ...] = ("income", "balance", "cashflow")
FREQUENCIES: tuple[Frequency, ...] = ("annual", "quarterly")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Profile(_Model):
    name: str
    quote_type: str
    sector: str | None = None
    industry: str | None = None
    country: str | None = None
    website: str | None = None
    summary: str | None = None
    employees: int | None = None
    exchange: str | None = None


class Quote(_Model):
    currency: str
    price: float | None = None
    previous_close: float | None = None
    market_cap: float | None = None
    shares_outstanding: float | None = None
    fifty_two_week_high: float | None = None
    fifty_two_week_low: float | None = None
    fifty_day_average: float | None = None
    two_hundred_day_average: float | None = None
    volume: float | None = None
    average_volume: float | None = None
    market_time: datetime | None = None


class KeyStatistics(_Model):
    """Yahoo's trailing-twelve-month figures and ratios (fallbacks when statements are thin).

    Money is in `financial_currency`; ratios and margins are fractions.
    """

    financial_currency: str | None = None
    trailing_eps: float | None = None
    forward_eps: float | None = None
    book_value_per_share: float | None = None
    trailing_pe: float | None = None
    forward_pe: float | None = None
    peg_ratio: float | None = None
    price_to_sales: float | None = None
    enterprise_value: float | None = None
    enterprise_to_ebitda: float | None = None
    enterprise_to_revenue: float | None = None
    beta: float | None = None
    revenue_ttm: float | None = None
    gross_profit_ttm: float | None = None
    ebitda_ttm: float | None = None
    net_income_ttm: float | None = None
    operating_cash_flow_ttm: float | None = None
    free_cash_flow_ttm: float | None = None
    total_debt: float | None = None
    total_cash: float | None = None
    dividend_yield: float | None = None
    payout_ratio: float | None = None
    debt_to_equity: float | None = None
    current_ratio: float | None = None
    gross_margin: float | None = None
    operating_margin: float | None = None
    profit_margin: float | None = None
    return_on_equity: float | None = None
    return_on_assets: float | None = None
    revenue_growth: float | None = None
    earnings_growth: float | None = None


class Analysts(_Model):
    """Consensus targets (in Quote.currency) and recommendation."""

    target_mean: float | None = None
    target_high: float | None = None
    target_low: float | None = None
    target_median: float | None = None
    recommendation: str | None = None
    recommendation_mean: float | None = None
    analyst_count: int | None = None


class Statement(_Model):
    """One financial statement: line items by period end, newest first, in `currency`."""

    kind: StatementKind
    frequency: Frequency
    currency: str | None
    periods: list[date]
    items: dict[str, list[float | None]]

    def value(self, item: str, index: int = 0) -> float | None:
        """The item's value for the index-th newest period, or None."""
        values = self.items.get(item)
        if values is None or index >= len(values):
            return None
        return values[index]


class PriceHistory(_Model):
    """Daily closes (split- and dividend-adjusted), oldest first, in `currency`."""

    currency: str
    dates: list[date]
    close: list[float]


class Gap(_Model):
    """A named part that could not be had, and why; `retryable` if asking again may help."""

    part: str
    reason: str
    retryable: bool = False


class CompanyData(_Model):
    ticker: str
    source: Literal["yfinance", "snapshot"]
    as_of: date
    source_label: str
    fetched_at: datetime
    profile: Profile
    quote: Quote
    statistics: KeyStatistics = Field(default_factory=KeyStatistics)
    analysts: Analysts = Field(default_factory=Analysts)
    statements: dict[str, Statement] = Field(default_factory=dict)
    prices: PriceHistory | None = None
    research: ResearchData = Field(default_factory=ResearchData)
    gaps: list[Gap] = Field(default_factory=list)
    # A "peer" fetch leaves statements, prices and research empty on purpose (no gaps).
    scope: Scope = "full"

    def statement(self, kind: StatementKind, frequency: Frequency) -> Statement | None:
        return self.statements.get(statement_key(kind, frequency))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyData:
        return cls.model_validate(data)


def statement_key(kind: StatementKind, frequency: Frequency) -> str:
    """The part name of a statement, e.g. "income_annual" (also its gap name)."""
    return f"{kind}_{frequency}"


STATEMENT_PARTS: tuple[str, ...] = tuple(
    statement_key(kind, frequency) for kind in STATEMENT_KINDS for frequency in FREQUENCIES
)
