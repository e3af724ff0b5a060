"""Display strings for figures: "$391.04B", "24.3%", "38.9x", "DKK 125.94B"."""

from __future__ import annotations

from vast_ai.schemas import FactUnit

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹"}
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def money(value: float, currency: str | None, *, compact: bool = True) -> str:
    """Money with its currency; large amounts scaled: "$391.04B", "-£97.10M", "DKK 299.70"."""
    prefix = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    sign = "-" if value < 0 else ""
    size = abs(value)
    if compact:
        for scale, suffix in _SCALES:
            if size >= scale:
                return f"{sign}{prefix}{size / scale:,.2f}{suffix}"
    return f"{sign}{prefix}{size:,.2f}"


def percent(value: float) -> str:
    """A fraction as a percent with one decimal: 0.2431 -> "24.3%"."""
    return f"{value * 100:.1f}%"


def multiple(value: float) -> str:
    return f"{value:.1f}x"


def display(value: float, unit: FactUnit, currency: str | None = None) -> str:
    """The display string of a value in the given unit."""
    if unit == "currency":
        return money(value, currency)
    if unit == "per_share":
        return money(value, currency, compact=False)
    if unit == "percent":
        return percent(value)
    if unit == "multiple":
        return multiple(value)
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"
