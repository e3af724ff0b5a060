"""Facts read from yfinance-shaped data, for a request that brings no fact sheet.

curl users send `company_data`/`financial_data`/`market_data` as yfinance's `Ticker.info`
gives them (`{"marketCap": 3000000000000, "trailingPE": 38.8, ...}`). Each known key
becomes a fact with the unit Yahoo uses for it: fractions (0.243 is 24.3%), percents
(`dividendYield` 0.41 is 0.41%, `debtToEquity` 145 is 1.45x), multiples, money in the
quote currency (prices, targets, market value: pence for `GBp` quotes) or in the
statements' currency (totals, per-share book value and EPS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vast_ai.schemas import Fact, FactUnit

# How Yahoo gives a key: money in the quote currency or the statements' currency, a
# fraction or a percent shown as a percent, a percent shown as a multiple, or as is.
Shape = Literal[
    "price", "statement_per_share", "market_total", "statement_total",
    "fraction", "percent", "percent_as_multiple", "multiple", "number", "count",
]  # fmt: skip


@dataclass(frozen=True)
class _Key:
    label: str
    shape: Shape
    period: str | None = None


TTM, MRQ, LATEST = "TTM", "most recent quarter", "latest quote"

INFO_KEYS: dict[str, _Key] = {
    "currentPrice": _Key("Share price", "price", LATEST),
    "regularMarketPrice": _Key("Share price (regular market)", "price", LATEST),
    "previousClose": _Key("Previous close", "price", LATEST),
    "fiftyTwoWeekHigh": _Key("52-week high", "price", "52 weeks"),
    "fiftyTwoWeekLow": _Key("52-week low", "price", "52 weeks"),
    "fiftyDayAverage": _Key("50-day average price", "price", "50 days"),
    "twoHundredDayAverage": _Key("200-day average price", "price", "200 days"),
    "targetMeanPrice": _Key("Analyst target (mean)", "price", "12-month target"),
    "targetMedianPrice": _Key("Analyst target (median)", "price", "12-month target"),
    "targetHighPrice": _Key("Analyst target (high)", "price", "12-month target"),
    "targetLowPrice": _Key("Analyst target (low)", "price", "12-month target"),
    "dividendRate": _Key("Dividend per share", "price", "forward"),
    "trailingEps": _Key("EPS (trailing)", "statement_per_share", TTM),
    "forwardEps": _Key("EPS (forward)", "statement_per_share", "next fiscal year (estimate)"),
    "bookValue": _Key("Book value per share", "statement_per_share", MRQ),
    "marketCap": _Key("Market capitalisation", "market_total", LATEST),
    "enterpriseValue": _Key("Enterprise value", "market_total", LATEST),
    "totalRevenue": _Key("Revenue", "statement_total", TTM),
    "grossProfits": _Key("Gross profit", "statement_total", TTM),
    "ebitda": _Key("EBITDA", "statement_total", TTM),
    "netIncomeToCommon": _Key("Net income", "statement_total", TTM),
    "operatingCashflow": _Key("Operating cash flow", "statement_total", TTM),
    "freeCashflow": _Key("Free cash flow", "statement_total", TTM),
    "totalCash": _Key("Cash", "statement_total", MRQ),
    "totalDebt": _Key("Total debt", "statement_total", MRQ),
    "grossMargins": _Key("Gross margin", "fraction", TTM),
    "operatingMargins": _Key("Operating margin", "fraction", TTM),
    "ebitdaMargins": _Key("EBITDA margin", "fraction", TTM),
    "profitMargins": _Key("Net margin", "fraction", TTM),
    "returnOnEquity": _Key("Return on equity", "fraction", TTM),
    "returnOnAssets": _Key("Return on assets", "fraction", TTM),
    "revenueGrowth": _Key("Revenue growth (year on year)", "fraction", MRQ),
    "earningsGrowth": _Key("Earnings growth (year on year)", "fraction", MRQ),
    "payoutRatio": _Key("Payout ratio", "fraction", TTM),
    "trailingAnnualDividendYield": _Key("Dividend yield (trailing)", "fraction", TTM),
    "52WeekChange": _Key("Share price change", "fraction", "52 weeks"),
    "heldPercentInsiders": _Key("Shares held by insiders", "fraction", LATEST),
    "heldPercentInstitutions": _Key("Shares held by institutions", "fraction", LATEST),
    "shortPercentOfFloat": _Key("Short interest (of float)", "fraction", LATEST),
    "dividendYield": _Key("Dividend yield", "percent", "forward"),
    "fiveYearAvgDividendYield": _Key("Dividend yield (5-year average)", "percent", "5 years"),
    "debtToEquity": _Key("Debt/equity", "percent_as_multiple", MRQ),
    "trailingPE": _Key("P/E (trailing)", "multiple", TTM),
    "forwardPE": _Key("P/E (forward)", "multiple", "next fiscal year (estimate)"),
    "priceToBook": _Key("Price/book", "multiple", MRQ),
    "priceToSalesTrailing12Months": _Key("Price/sales", "multiple", TTM),
    "enterpriseToRevenue": _Key("EV/revenue", "multiple", TTM),
    "enterpriseToEbitda": _Key("EV/EBITDA", "multiple", TTM),
    "trailingPegRatio": _Key("PEG ratio", "multiple", TTM),
    "currentRatio": _Key("Current ratio", "multiple", MRQ),
    "quickRatio": _Key("Quick ratio", "multiple", MRQ),
    "beta": _Key("Beta", "number", "5 years monthly"),
    "recommendationMean": _Key("Recommendation score (1 strong buy - 5 sell)", "number"),
    "numberOfAnalystOpinions": _Key("Number of analysts", "count"),
    "fullTimeEmployees": _Key("Employees", "count", LATEST),
    "sharesOutstanding": _Key("Shares outstanding", "count", LATEST),
}

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_PENCE = frozenset({"GBp", "GBX"})
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))
_UNITS: dict[Shape, FactUnit] = {
    "price": "per_share",
    "statement_per_share": "per_share",
    "market_total": "currency",
    "statement_total": "currency",
    "fraction": "percent",
    "percent": "percent",
    "percent_as_multiple": "multiple",
    "multiple": "multiple",
    "number": "number",
    "count": "count",
}


def _number(value: Any) -> float | None:
    """A finite float, or None (bools, strings, NaN and integers too big for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _money(value: float, currency: str | None, *, scaled: bool) -> str:
    if currency in _PENCE:
        return f"{value:,.1f}p"
    amount, suffix = value, ""
    if scaled:
        for size, letter in _SCALES:
            if abs(value) >= size:
                amount, suffix = value / size, letter
                break
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}{suffix}"
    symbol = _SYMBOLS.get(currency or "USD")
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency} {digits}"


def _fact(key: str, spec: _Key, value: float, quote: str | None, books: str | None) -> Fact:
    shape = spec.shape
    currency: str | None = None
    if shape == "price":
        currency = quote
        display = _money(value, currency, scaled=False)
    elif shape == "statement_per_share":
        currency = books
        display = _money(value, currency, scaled=False)
    elif shape in ("market_total", "statement_total"):
        currency = books if shape == "statement_total" else quote
        currency = "GBP" if currency in _PENCE else currency  # Yahoo gives totals in pounds
        display = _money(value, currency, scaled=True)
    elif shape == "fraction":
        value *= 100
        display = f"{value:.1f}%"
    elif shape == "percent":
        display = f"{value:.2f}%"
    elif shape == "percent_as_multiple":
        value /= 100
        display = f"{value:.2f}x"
    elif shape == "multiple":
        display = f"{value:.1f}x"
    elif shape == "count":
        display = f"{value:,.0f}"
    else:
        display = f"{value:.2f}"
    return Fact(
        key=key,
        label=spec.label,
        value=value,
        display=display,
        unit=_UNITS[shape],
        currency=currency,
        period=spec.period,
    )


def derive_facts(*sources: Mapping[str, Any] | None) -> list[Fact]:
    """The facts found at the top level of `sources` (the first source holding a key wins),
    in the order of INFO_KEYS."""
    merged: dict[str, Any] = {}
    for source in sources:
        for key, value in (source or {}).items():
            merged.setdefault(key, value)
    currency = merged.get("currency")
    quote = currency if isinstance(currency, str) else None
    statements = merged.get("financialCurrency")
    books = statements if isinstance(statements, str) else quote
    if books in _PENCE:
        books = "GBP"
    facts = []
    for key, spec in INFO_KEYS.items():
        value = _number(merged.get(key))
        if value is not None:
            facts.append(_fact(key, spec, value, quote, books))
    return facts
