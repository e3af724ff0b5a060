"""Reading figures out of CompanyData with their period: the inputs of the metrics.

Flows (revenue, EPS, cash flow) prefer the last four quarters summed ("TTM to
2024-12-31"), then the latest fiscal year ("FY2024"), then Yahoo's own TTM figure.
Balances prefer the latest quarter end, then the latest fiscal year end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from frontend_app.market.company import CompanyData, StatementKind

# The periods of Yahoo's own figures (key statistics), used when statements are thin.
YAHOO_PERIOD = "TTM (Yahoo Finance)"
YAHOO_BALANCE_PERIOD = "latest (Yahoo Finance)"
# Four quarter ends span about nine months; more than that means a missing quarter.
_MAX_TTM_SPAN_DAYS = 300
# A price history ending more than this many days before the as-of date (a week of
# holidays, no more) is not current: no returns, volatility or moving averages from it.
MAX_PRICE_LAG_DAYS = 7


@dataclass(frozen=True)
class Figure:
    """A value with the period it covers and its currency (None for ratios and counts)."""

    value: float
    period: str
    currency: str | None = None


@dataclass(frozen=True)
class PriceWindow:
    """What the price history covers, and whether it can stand for the present."""

    start: date | None
    end: date | None
    current: bool
    reason: str | None = None  # why it is not current


def price_window(company: CompanyData) -> PriceWindow:
    """The price history's window; not current when it ends well before `as_of`.

    The bundled snapshots hold 2020 price windows beside 2025 quotes: figures from
    them would be dated five years before the rest of the report.
    """
    prices = company.prices
    if prices is None or not prices.dates:
        return PriceWindow(None, None, False, "no price history from Yahoo Finance")
    start, end = prices.dates[0], prices.dates[-1]
    lag = (company.as_of - end).days
    if lag > MAX_PRICE_LAG_DAYS:
        reason = (
            f"the price history ends {end.isoformat()}, {lag:,} days before the as-of "
            f"date {company.as_of.isoformat()}"
        )
        return PriceWindow(start, end, False, reason)
    return PriceWindow(start, end, True)


def fiscal_label(period_end: date) -> str:
    """Fiscal years are named by the calendar year they end in: 2024-09-30 -> "FY2024"."""
    return f"FY{period_end.year}"


def annual_series(company: CompanyData, kind: StatementKind, item: str) -> list[tuple[date, float]]:
    """(period end, value) for every fiscal year with a value, oldest first."""
    statement = company.statement(kind, "annual")
    if statement is None:
        return []
    values = statement.items.get(item, [])
    pairs = [
        (end, value)
        for end, value in zip(statement.periods, values, strict=False)
        if value is not None
    ]
    return sorted(pairs)


def latest_annual(company: CompanyData, kind: StatementKind, item: str) -> Figure | None:
    series = annual_series(company, kind, item)
    if not series:
        return None
    end, value = series[-1]
    return Figure(value, fiscal_label(end), _currency(company, kind))


def annual_at(company: CompanyData, kind: StatementKind, item: str, period: str) -> Figure | None:
    """The item's value in the fiscal year labelled `period` ("FY2024"), if reported."""
    for end, value in annual_series(company, kind, item):
        if fiscal_label(end) == period:
            return Figure(value, period, _currency(company, kind))
    return None


def ttm(
    company: CompanyData, kind: StatementKind, item: str, fallback: float | None = None
) -> Figure | None:
    """A flow over the last twelve months: four quarters, else latest FY, else `fallback`."""
    statement = company.statement(kind, "quarterly")
    if statement is not None and len(statement.periods) >= 4:
        values = [v for v in statement.items.get(item, [])[:4] if v is not None]
        ends = statement.periods[:4]
        if len(values) == 4 and (ends[0] - ends[3]).days <= _MAX_TTM_SPAN_DAYS:
            return Figure(sum(values), f"TTM to {ends[0].isoformat()}", _currency(company, kind))
    annual = latest_annual(company, kind, item)
    if annual is not None:
        return annual
    if fallback is not None:
        return Figure(fallback, "TTM", _currency(company, kind))
    return None


def latest_balance(company: CompanyData, item: str, fallback: float | None = None) -> Figure | None:
    """A balance-sheet item at the latest quarter end, else fiscal year end, else `fallback`."""
    for frequency in ("quarterly", "annual"):
        statement = company.statement("balance", frequency)
        if statement is None:
            continue
        for end, value in zip(statement.periods, statement.items.get(item, []), strict=False):
            if value is not None:
                return Figure(value, f"as of {end.isoformat()}", _currency(company, "balance"))
    if fallback is not None:
        return Figure(fallback, "latest", _currency(company, "balance"))
    return None


def financial_currency(company: CompanyData) -> str:
    return company.statistics.financial_currency or company.quote.currency


def _currency(company: CompanyData, kind: StatementKind) -> str:
    for statement in company.statements.values():
        if statement.kind == kind and statement.currency:
            return statement.currency
    return financial_currency(company)


def currencies_match(company: CompanyData) -> bool:
    """True when prices and financial statements are in the same currency."""
    return company.quote.currency == financial_currency(company)


def shares_outstanding(company: CompanyData) -> float | None:
    """The quote's share count, else market capitalisation over price."""
    quote = company.quote
    if quote.shares_outstanding:
        return quote.shares_outstanding
    if quote.market_cap and quote.price:
        return quote.market_cap / quote.price
    return None


def currency_mismatch(company: CompanyData) -> str:
    """Why a price cannot be set against the statements (when currencies_match is False)."""
    return f"prices are in {company.quote.currency} but financials in {financial_currency(company)}"


@dataclass(frozen=True)
class CoreFigures:
    """The flows and balances the metrics and the valuations start from."""

    revenue: Figure | None
    net_income: Figure | None
    eps: Figure | None
    ebitda: Figure | None
    fcf: Figure | None
    capex: Figure | None
    debt: Figure | None
    cash: Figure | None


def core_figures(company: CompanyData) -> CoreFigures:
    """Flows over the last twelve months and the latest balances, Yahoo's as fallbacks."""
    stats = company.statistics
    # Yahoo's per-share figures are in an unstated currency when the two differ.
    trailing_eps = stats.trailing_eps if currencies_match(company) else None
    return CoreFigures(
        revenue=ttm(company, "income", "TotalRevenue", stats.revenue_ttm),
        net_income=ttm(company, "income", "NetIncome", stats.net_income_ttm),
        eps=ttm(company, "income", "DilutedEPS", trailing_eps),
        ebitda=ttm(company, "income", "EBITDA", stats.ebitda_ttm),
        fcf=ttm(company, "cashflow", "FreeCashFlow", stats.free_cash_flow_ttm),
        capex=ttm(company, "cashflow", "CapitalExpenditure"),
        debt=latest_balance(company, "TotalDebt", stats.total_debt),
        cash=latest_balance(
            company, "CashCashEquivalentsAndShortTermInvestments", stats.total_cash
        ),
    )
