"""Turn raw Yahoo values into CompanyData parts: the ONE place units are made consistent.

Yahoo's quirks handled here (each has a test in tests/frontend_app/market/test_normalise.py):
- London (and Johannesburg, Tel Aviv) quotes are in minor units: GBp pence, ZAc cents,
  ILA agorot. Prices, targets and 52-week ranges are divided by 100 and labelled in
  the major currency; market cap, EPS and book value are already in the major unit.
- `dividendYield` is a percent since 2025 when it comes from the v7 quote (0.41 for
  0.41%) but a fraction when only quoteSummary answered (0.0052): the trailing yield,
  always a fraction, tells which.
- `debtToEquity` is a percent (145 means 1.45x): made a ratio.
- Margins, returns on equity/assets, growth and payout are already fractions.
- NaN, infinities, booleans and non-numbers become None, never 0.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .company import (
    Analysts,
    Frequency,
    KeyStatistics,
    PriceHistory,
    Profile,
    Quote,
    Statement,
    StatementKind,
)

# Minor currency units Yahoo quotes some exchanges in: code -> (major currency, units per major).
MINOR_UNITS: dict[str, tuple[str, int]] = {
    "GBp": ("GBP", 100),
    "GBX": ("GBP", 100),
    "ZAc": ("ZAR", 100),
    "ZAC": ("ZAR", 100),
    "ILA": ("ILS", 100),
}


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (NaN, inf, bool, text, None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def major_currency(code: str | None) -> tuple[str | None, int]:
    """(major currency, divisor) for a quote currency: ("GBP", 100) for "GBp"."""
    if code is None:
        return None, 1
    return MINOR_UNITS.get(code, (code, 1))


def percent_to_fraction(value: Any) -> float | None:
    result = number(value)
    return None if result is None else result / 100


def dividend_yield_fraction(reported: Any, trailing: Any) -> float | None:
    """Yahoo's dividendYield as a fraction, whichever unit it came in.

    Read as a percent (the v7 quote's unit since 2025) unless the trailing yield,
    always a fraction, says the value is already one.
    """
    value = number(reported)
    if value is None:
        return None
    reference = number(trailing)
    if reference is not None and reference > 0:
        as_fraction = abs(math.log(value / reference)) if value > 0 else math.inf
        as_percent = abs(math.log(value / 100 / reference)) if value > 0 else math.inf
        if as_fraction < as_percent:
            return value
    return value / 100


def _price(info: dict[str, Any], key: str, divisor: int) -> float | None:
    value = number(info.get(key))
    return None if value is None else value / divisor


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _market_time(info: dict[str, Any]) -> datetime | None:
    stamp = number(info.get("regularMarketTime"))
    return None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC)


def profile_from_info(ticker: str, info: dict[str, Any]) -> Profile:
    employees = number(info.get("fullTimeEmployees"))
    return Profile(
        name=_text(info.get("longName")) or _text(info.get("shortName")) or ticker,
        quote_type=str(info.get("quoteType") or "UNKNOWN").upper(),
        sector=_text(info.get("sector")),
        industry=_text(info.get("industry")),
        country=_text(info.get("country")),
        website=_text(info.get("website")),
        summary=_text(info.get("longBusinessSummary")),
        employees=None if employees is None else int(employees),
        exchange=_text(info.get("fullExchangeName")) or _text(info.get("exchange")),
    )


def quote_from_info(info: dict[str, Any]) -> Quote:
    currency, divisor = major_currency(_text(info.get("currency")))
    # regularMarketPrice, the 52-week range, market cap and time come from one quote.
    price = _price(info, "regularMarketPrice", divisor) or _price(info, "currentPrice", divisor)
    return Quote(
        currency=currency or "USD",
        price=price,
        previous_close=_price(info, "previousClose", divisor),
        market_cap=number(info.get("marketCap")),
        shares_outstanding=number(info.get("sharesOutstanding")),
        fifty_two_week_high=_price(info, "fiftyTwoWeekHigh", divisor),
        fifty_two_week_low=_price(info, "fiftyTwoWeekLow", divisor),
        fifty_day_average=_price(info, "fiftyDayAverage", divisor),
        two_hundred_day_average=_price(info, "twoHundredDayAverage", divisor),
        volume=number(info.get("volume")),
        average_volume=number(info.get("averageVolume")),
        market_time=_market_time(info),
    )


def statistics_from_info(info: dict[str, Any]) -> KeyStatistics:
    get = info.get
    return KeyStatistics(
        financial_currency=_text(get("financialCurrency")),
        trailing_eps=number(get("trailingEps")),
        forward_eps=number(get("forwardEps")),
        book_value_per_share=number(get("bookValue")),
        trailing_pe=number(get("trailingPE")),
        forward_pe=number(get("forwardPE")),
        peg_ratio=number(get("trailingPegRatio")),
        price_to_sales=number(get("priceToSalesTrailing12Months")),
        enterprise_value=number(get("enterpriseValue")),
        enterprise_to_ebitda=number(get("enterpriseToEbitda")),
        enterprise_to_revenue=number(get("enterpriseToRevenue")),
        beta=number(get("beta")),
        revenue_ttm=number(get("totalRevenue")),
        gross_profit_ttm=number(get("grossProfits")),
        ebitda_ttm=number(get("ebitda")),
        net_income_ttm=number(get("netIncomeToCommon")),
        operating_cash_flow_ttm=number(get("operatingCashflow")),
        free_cash_flow_ttm=number(get("freeCashflow")),
        total_debt=number(get("totalDebt")),
        total_cash=number(get("totalCash")),
        dividend_yield=dividend_yield_fraction(
            get("dividendYield"), get("trailingAnnualDividendYield")
        ),
        payout_ratio=number(get("payoutRatio")),
        debt_to_equity=percent_to_fraction(get("debtToEquity")),
        current_ratio=number(get("currentRatio")),
        gross_margin=number(get("grossMargins")),
        operating_margin=number(get("operatingMargins")),
        profit_margin=number(get("profitMargins")),
        return_on_equity=number(get("returnOnEquity")),
        return_on_assets=number(get("returnOnAssets")),
        revenue_growth=number(get("revenueGrowth")),
        earnings_growth=number(get("earningsGrowth")),
    )


def analysts_from_info(info: dict[str, Any]) -> Analysts:
    _, divisor = major_currency(_text(info.get("currency")))
    count = number(info.get("numberOfAnalystOpinions"))
    recommendation = _text(info.get("recommendationKey"))
    return Analysts(
        target_mean=_price(info, "targetMeanPrice", divisor),
        target_high=_price(info, "targetHighPrice", divisor),
        target_low=_price(info, "targetLowPrice", divisor),
        target_median=_price(info, "targetMedianPrice", divisor),
        recommendation=None if recommendation in (None, "none") else recommendation,
        recommendation_mean=number(info.get("recommendationMean")),
        analyst_count=None if count is None else int(count),
    )


def statement_from_frame(
    frame: Any, kind: StatementKind, frequency: Frequency, currency: str | None
) -> Statement | None:
    """A yfinance statement DataFrame (items x period ends) as a Statement; None if empty."""
    if frame is None or frame.empty:
        return None
    columns = sorted(frame.columns, reverse=True)
    table = frame[columns]
    items: dict[str, list[float | None]] = {}
    for item, row in zip(table.index, table.itertuples(index=False, name=None), strict=True):
        values = [number(value) for value in row]
        if any(value is not None for value in values):
            items[str(item)] = values
    if not items:
        return None
    return Statement(
        kind=kind,
        frequency=frequency,
        currency=currency,
        periods=[column.date() for column in columns],
        items=items,
    )


def prices_from_frame(frame: Any, quote_currency: str | None) -> PriceHistory | None:
    """A yfinance history DataFrame as daily closes in the major currency; None if empty."""
    if frame is None or frame.empty or "Close" not in frame:
        return None
    currency, divisor = major_currency(quote_currency)
    dates, closes = [], []
    for stamp, close in zip(frame.index, frame["Close"], strict=True):
        value = number(close)
        if value is not None:
            dates.append(stamp.date())
            closes.append(value / divisor)
    if not closes:
        return None
    return PriceHistory(currency=currency or "USD", dates=dates, close=closes)
