"""Chart series for the browser: prices with moving averages, results and margins by year."""

from __future__ import annotations

from typing import Any

from frontend_app.market.company import CompanyData

from .figures import annual_series, financial_currency, fiscal_label, price_window

MOVING_AVERAGE_WINDOWS = (50, 200)


def moving_average(values: list[float], window: int) -> list[float | None]:
    """Trailing simple moving average; None until `window` values are in."""
    result: list[float | None] = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        result.append(round(total / window, 6) if index >= window - 1 else None)
    return result


def _by_year(company: CompanyData, item: str) -> dict[str, float]:
    return {fiscal_label(end): value for end, value in annual_series(company, "income", item)}


def _price_block(company: CompanyData) -> dict[str, Any]:
    """Closes with the window they cover; moving averages only over a current window."""
    prices = company.prices
    closes = [] if prices is None else prices.close
    window = price_window(company)
    block: dict[str, Any] = {
        "currency": company.quote.currency if prices is None else prices.currency,
        "dates": [] if prices is None else [d.isoformat() for d in prices.dates],
        "close": closes,
        "window": {
            "start": None if window.start is None else window.start.isoformat(),
            "end": None if window.end is None else window.end.isoformat(),
            "current": window.current,
            "note": window.reason,
        },
    }
    for days in MOVING_AVERAGE_WINDOWS:
        block[f"sma{days}"] = moving_average(closes, days) if window.current else []
    return block


def chart_series(company: CompanyData) -> dict[str, Any]:
    """JSON-safe series; empty lists where the data is missing."""
    price_block = _price_block(company)

    revenue = _by_year(company, "TotalRevenue")
    lines = {
        key: _by_year(company, item)
        for key, item in (
            ("net_income", "NetIncome"),
            ("gross", "GrossProfit"),
            ("operating", "OperatingIncome"),
        )
    }
    years = sorted(revenue)

    def margin(key: str, year: str) -> float | None:
        value = lines[key].get(year)
        return None if value is None or not revenue[year] else value / revenue[year]

    return {
        "prices": price_block,
        "annual": {
            "currency": financial_currency(company),
            "periods": years,
            "revenue": [revenue[y] for y in years],
            "net_income": [lines["net_income"].get(y) for y in years],
        },
        "margins": {
            "periods": years,
            "gross": [margin("gross", y) for y in years],
            "operating": [margin("operating", y) for y in years],
            "net": [margin("net_income", y) for y in years],
        },
    }
