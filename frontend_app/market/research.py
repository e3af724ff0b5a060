"""What the Street says about a company: estimates, surprises, ratings, insiders, filings.

The parts come from the quoteSummary modules yfinance exposes (earningsTrend through
`get_earnings_estimate` and its siblings, earningsHistory, recommendationTrend,
upgradeDowngradeHistory, the holders modules, calendarEvents, secFilings);
frontend_app.market.normalise_research reads them.

Units: per-share figures and revenue estimates in `currency` (a major currency:
GBP, never GBp); growth, surprises and ownership as fractions (0.05 = 5%).
A missing figure is None, never 0.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EstimatePeriod = Literal["0q", "+1q", "0y", "+1y"]
ESTIMATE_PERIODS: tuple[EstimatePeriod, ...] = ("0q", "+1q", "0y", "+1y")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PeriodEstimate(_Model):
    """The consensus for one coming quarter or fiscal year.

    `end` is the period's end: Yahoo's earningsTrend has it, but yfinance drops it, so
    it is derived from the fiscal calendar in `info`
    (frontend_app.market.normalise_research.estimate_period_end).
    """

    period: EstimatePeriod
    end: date | None = None
    currency: str | None = None
    eps_avg: float | None = None
    eps_low: float | None = None
    eps_high: float | None = None
    eps_year_ago: float | None = None
    eps_growth: float | None = None
    eps_analysts: int | None = None
    revenue_avg: float | None = None
    revenue_low: float | None = None
    revenue_high: float | None = None
    revenue_year_ago: float | None = None
    revenue_growth: float | None = None
    revenue_analysts: int | None = None
    eps_7d_ago: float | None = None
    eps_30d_ago: float | None = None
    eps_60d_ago: float | None = None
    eps_90d_ago: float | None = None
    revisions_up_7d: int | None = None
    revisions_up_30d: int | None = None
    revisions_down_7d: int | None = None
    revisions_down_30d: int | None = None

    @property
    def is_year(self) -> bool:
        return self.period.endswith("y")


class EarningsSurprise(_Model):
    """One reported quarter: actual EPS against the consensus just before."""

    quarter_end: date
    eps_actual: float | None = None
    eps_estimate: float | None = None
    surprise: float | None = None


class RecommendationMonth(_Model):
    """How many analysts said what, `months_ago` months back (0: this month)."""

    months_ago: int
    strong_buy: int = 0
    buy: int = 0
    hold: int = 0
    sell: int = 0
    strong_sell: int = 0


class RatingChange(_Model):
    """One broker's rating action; `action` is Yahoo's: up, down, init, main, reit."""

    date: date
    firm: str
    to_grade: str | None = None
    from_grade: str | None = None
    action: str | None = None


class InsiderTrade(_Model):
    date: date
    insider: str
    position: str | None = None
    text: str | None = None
    shares: float | None = None
    value: float | None = None


class InsiderActivity(_Model):
    """Yahoo's netSharePurchaseActivity: insiders' buying and selling over `period`."""

    period: str
    buy_shares: float | None = None
    buy_count: int | None = None
    sell_shares: float | None = None
    sell_count: int | None = None
    net_shares: float | None = None
    net_count: int | None = None
    insider_shares: float | None = None


class Ownership(_Model):
    insiders: float | None = None
    institutions: float | None = None
    institutions_of_float: float | None = None
    institutions_count: int | None = None


class EventCalendar(_Model):
    """Yahoo's calendarEvents; `earnings_dates` is one date or a window of two."""

    earnings_dates: list[date] = Field(default_factory=list)
    ex_dividend_date: date | None = None
    dividend_date: date | None = None


class Filing(_Model):
    """A filing Yahoo lists for the company; `url` only when it is an https address."""

    date: date
    type: str
    title: str
    url: str | None = None


class ResearchData(_Model):
    estimates: list[PeriodEstimate] = Field(default_factory=list)
    earnings_history: list[EarningsSurprise] = Field(default_factory=list)
    recommendation_trend: list[RecommendationMonth] = Field(default_factory=list)
    rating_changes: list[RatingChange] = Field(default_factory=list)
    insider_trades: list[InsiderTrade] = Field(default_factory=list)
    insider_activity: InsiderActivity | None = None
    ownership: Ownership | None = None
    calendar: EventCalendar | None = None
    filings: list[Filing] = Field(default_factory=list)
