"""Turn yfinance's research answers into ResearchData: the rules of normalise.py apply.

A missing figure is None; an estimate with no analyst behind it is no estimate
(Yahoo fills those with zeros); minor currency units (GBp) become major ones; the
long lists keep only their newest rows (Yahoo sends hundreds of rating changes).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from .normalise import major_currency, number
from .research import (
    ESTIMATE_PERIODS,
    EarningsSurprise,
    EstimatePeriod,
    EventCalendar,
    Filing,
    InsiderActivity,
    InsiderTrade,
    Ownership,
    PeriodEstimate,
    RatingChange,
    RecommendationMonth,
)

MAX_RATING_CHANGES = 25
MAX_INSIDER_TRADES = 25
MAX_FILINGS = 20


def _float(value: Any) -> float | None:
    """A finite float from a Python, numpy or pandas scalar; None for NaN, NA and text."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return None
    return number(value)


def _int(value: Any) -> int | None:
    result = _float(value)
    return None if result is None else int(result)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    to_pydatetime = getattr(value, "to_pydatetime", None)  # a pandas Timestamp (NaT is None)
    if callable(to_pydatetime):
        try:
            return to_pydatetime().date()  # type: ignore[no-any-return]
        except ValueError:
            return None
    return None


def _empty(frame: Any) -> bool:
    return frame is None or getattr(frame, "empty", True)


def _rows(frame: Any, newest: int | None = None) -> Iterable[tuple[Any, dict[str, Any]]]:
    """(index, {column: value}) for each row of a DataFrame; with `newest`, only the rows
    of the latest index values, at most that many (read before they are converted)."""
    if _empty(frame):
        return []
    if newest is not None:
        frame = frame.sort_index(ascending=False).head(newest)
    return zip(frame.index, frame.to_dict("records"), strict=True)


# A 52/53-week fiscal period ends on a weekday near a month's end, up to a week after
# it (Ocado's year ended on 2024-12-01): such an end belongs to the month before.
_DAYS_PAST_MONTH_END = 7


def _month_end(day: date, months: int) -> date:
    """The last day of the month `months` after the month `day` closes."""
    closed_month = day.month - (1 if day.day <= _DAYS_PAST_MONTH_END else 0)
    month_index = day.year * 12 + closed_month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, _calendar.monthrange(year, month + 1)[1])


def _stamp(info: dict[str, Any], key: str) -> date | None:
    seconds = number(info.get(key))
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC).date()


def estimate_period_end(period: EstimatePeriod, info: dict[str, Any]) -> date | None:
    """The end of an earningsTrend period, from the fiscal calendar Yahoo gives in `info`.

    Yahoo's "0y" is the fiscal year ending on `nextFiscalYearEnd` (the year not yet
    reported) and "0q" the quarter after `mostRecentQuarter`; periods are named by
    the calendar month they close, as Yahoo names them.
    tests/frontend_app/market/test_research.py checks this against the earningsTrend
    `endDate` of every recorded company.
    """
    if period.endswith("y"):
        year_end = _stamp(info, "nextFiscalYearEnd")
        if year_end is None:
            return None
        return _month_end(year_end, 12) if period == "+1y" else _month_end(year_end, 0)
    last_quarter = _stamp(info, "mostRecentQuarter")
    if last_quarter is None:
        return None
    return _month_end(last_quarter, 3 if period == "0q" else 6)


# yfinance's earningsTrend views: {view: {column: (PeriodEstimate field, kind)}}; "eps"
# and "revenue" views count only with analysts behind them, trend and revisions only
# with an EPS estimate.
_MONEY, _COUNT, _RATIO = "money", "count", "ratio"
_ESTIMATE_VIEWS: dict[str, dict[str, tuple[str, str]]] = {
    "earnings_estimate": {
        "avg": ("eps_avg", _MONEY),
        "low": ("eps_low", _MONEY),
        "high": ("eps_high", _MONEY),
        "yearAgoEps": ("eps_year_ago", _MONEY),
        "growth": ("eps_growth", _RATIO),
        "numberOfAnalysts": ("eps_analysts", _COUNT),
    },
    "revenue_estimate": {
        "avg": ("revenue_avg", _MONEY),
        "low": ("revenue_low", _MONEY),
        "high": ("revenue_high", _MONEY),
        "yearAgoRevenue": ("revenue_year_ago", _MONEY),
        "growth": ("revenue_growth", _RATIO),
        "numberOfAnalysts": ("revenue_analysts", _COUNT),
    },
    "eps_trend": {
        "7daysAgo": ("eps_7d_ago", _MONEY),
        "30daysAgo": ("eps_30d_ago", _MONEY),
        "60daysAgo": ("eps_60d_ago", _MONEY),
        "90daysAgo": ("eps_90d_ago", _MONEY),
    },
    "eps_revisions": {
        "upLast7days": ("revisions_up_7d", _COUNT),
        "upLast30days": ("revisions_up_30d", _COUNT),
        "downLast7Days": ("revisions_down_7d", _COUNT),
        "downLast30days": ("revisions_down_30d", _COUNT),
    },
}


def _estimate_fields(view: str, row: dict[str, Any], divisor: int) -> dict[str, float | int | None]:
    fields: dict[str, float | int | None] = {}
    for column, (field, kind) in _ESTIMATE_VIEWS[view].items():
        if kind == _COUNT:
            fields[field] = _int(row.get(column))
        else:
            value = _float(row.get(column))
            fields[field] = value / divisor if value is not None and kind == _MONEY else value
    return fields


def estimates_from_frames(frames: dict[str, Any], info: dict[str, Any]) -> list[PeriodEstimate]:
    """earnings_estimate, revenue_estimate, eps_trend and eps_revisions as PeriodEstimates.

    A side (EPS or revenue) with no analyst behind it is left empty: Yahoo fills
    those with zeros (OCDO.L's quarters). Periods with nothing at all are dropped.
    """
    rows = {view: dict(_rows(frames.get(view))) for view in _ESTIMATE_VIEWS}
    estimates = []
    for period in ESTIMATE_PERIODS:
        eps, revenue = rows["earnings_estimate"].get(period), rows["revenue_estimate"].get(period)
        has_eps = eps is not None and bool(_int(eps.get("numberOfAnalysts")))
        has_revenue = revenue is not None and bool(_int(revenue.get("numberOfAnalysts")))
        if not (has_eps or has_revenue):
            continue
        first = eps if has_eps else revenue
        assert first is not None
        currency, divisor = major_currency(_text(first.get("currency")))
        fields: dict[str, Any] = {}
        for view, present in (
            ("earnings_estimate", has_eps),
            ("revenue_estimate", has_revenue),
            ("eps_trend", has_eps),
            ("eps_revisions", has_eps),
        ):
            row = rows[view].get(period)
            if present and row is not None:
                fields.update(_estimate_fields(view, row, divisor))
        estimates.append(
            PeriodEstimate(
                period=period,
                end=estimate_period_end(period, info),
                currency=currency,
                **fields,
            )
        )
    return estimates


def surprises_from_frame(frame: Any) -> list[EarningsSurprise]:
    """earnings_history, oldest quarter first."""
    surprises = []
    for index, row in _rows(frame):
        quarter_end = _date(index)
        if quarter_end is None:
            continue
        surprises.append(
            EarningsSurprise(
                quarter_end=quarter_end,
                eps_actual=_float(row.get("epsActual")),
                eps_estimate=_float(row.get("epsEstimate")),
                surprise=_float(row.get("surprisePercent")),
            )
        )
    return sorted(surprises, key=lambda s: s.quarter_end)


def recommendation_trend_from_frame(frame: Any) -> list[RecommendationMonth]:
    """recommendations (Yahoo's recommendationTrend), this month first."""
    months = []
    for _, row in _rows(frame):
        period = _text(row.get("period")) or ""
        if not (period.endswith("m") and period[:-1].lstrip("-").isdigit()):
            continue
        months.append(
            RecommendationMonth(
                months_ago=abs(int(period[:-1])),
                strong_buy=_int(row.get("strongBuy")) or 0,
                buy=_int(row.get("buy")) or 0,
                hold=_int(row.get("hold")) or 0,
                sell=_int(row.get("sell")) or 0,
                strong_sell=_int(row.get("strongSell")) or 0,
            )
        )
    return sorted(months, key=lambda m: m.months_ago)


def rating_changes_from_frame(frame: Any) -> list[RatingChange]:
    """upgrades_downgrades, newest first, at most MAX_RATING_CHANGES."""
    changes = []
    for index, row in _rows(frame, newest=2 * MAX_RATING_CHANGES):
        day, firm = _date(index), _text(row.get("Firm"))
        if day is None or firm is None:
            continue
        changes.append(
            RatingChange(
                date=day,
                firm=firm,
                to_grade=_text(row.get("ToGrade")),
                from_grade=_text(row.get("FromGrade")),
                action=_text(row.get("Action")),
            )
        )
    changes.sort(key=lambda c: c.date, reverse=True)
    return changes[:MAX_RATING_CHANGES]


def insider_trades_from_frame(frame: Any) -> list[InsiderTrade]:
    """insider_transactions, newest first, at most MAX_INSIDER_TRADES."""
    trades = []
    for _, row in _rows(frame):
        day, insider = _date(row.get("Start Date")), _text(row.get("Insider"))
        if day is None or insider is None:
            continue
        trades.append(
            InsiderTrade(
                date=day,
                insider=insider,
                position=_text(row.get("Position")),
                text=_text(row.get("Text")),
                shares=_float(row.get("Shares")),
                value=_float(row.get("Value")),
            )
        )
    trades.sort(key=lambda t: t.date, reverse=True)
    return trades[:MAX_INSIDER_TRADES]


_PURCHASE_ROWS = {
    "Purchases": ("buy_shares", "buy_count"),
    "Sales": ("sell_shares", "sell_count"),
    "Net Shares Purchased (Sold)": ("net_shares", "net_count"),
    "Total Insider Shares Held": ("insider_shares", None),
}


def insider_activity_from_frame(frame: Any) -> InsiderActivity | None:
    """insider_purchases (netSharePurchaseActivity); None when it reports nothing."""
    if _empty(frame):
        return None
    label_column = str(frame.columns[0])  # "Insider Purchases Last 6m"
    period = label_column.removeprefix("Insider Purchases Last").strip() or "unknown period"
    fields: dict[str, Any] = {}
    for _, row in _rows(frame):
        names = _PURCHASE_ROWS.get(str(row.get(label_column)))
        if names is None:
            continue
        shares_field, count_field = names
        fields[shares_field] = _float(row.get("Shares"))
        if count_field is not None:
            fields[count_field] = _int(row.get("Trans"))
    if not any(value for value in fields.values()):
        return None
    return InsiderActivity(period=period, **fields)


def ownership_from_frame(frame: Any) -> Ownership | None:
    """major_holders (majorHoldersBreakdown); None when Yahoo has none."""
    if _empty(frame) or "Value" not in frame:
        return None
    values = {str(key): value for key, value in frame["Value"].items()}
    ownership = Ownership(
        insiders=_float(values.get("insidersPercentHeld")),
        institutions=_float(values.get("institutionsPercentHeld")),
        institutions_of_float=_float(values.get("institutionsFloatPercentHeld")),
        institutions_count=_int(values.get("institutionsCount")),
    )
    return None if ownership == Ownership() else ownership


def calendar_from_dict(data: Any) -> EventCalendar | None:
    if not isinstance(data, dict):
        return None
    earnings = data.get("Earnings Date") or []
    dates = [d for d in (_date(x) for x in (earnings if isinstance(earnings, list) else []))]
    result = EventCalendar(
        earnings_dates=sorted(d for d in dates if d is not None),
        ex_dividend_date=_date(data.get("Ex-Dividend Date")),
        dividend_date=_date(data.get("Dividend Date")),
    )
    return None if result == EventCalendar() else result


def filings_from_list(data: Any) -> list[Filing]:
    """sec_filings, newest first, at most MAX_FILINGS; only https links are kept."""
    filings = []
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        day, kind = _date(entry.get("date")), _text(entry.get("type"))
        if day is None or kind is None:
            continue
        url = _text(entry.get("edgarUrl"))
        filings.append(
            Filing(
                date=day,
                type=kind,
                title=_text(entry.get("title")) or kind,
                url=url if url and url.startswith("https://") else None,
            )
        )
    filings.sort(key=lambda f: f.date, reverse=True)
    return filings[:MAX_FILINGS]


# How each research part's answer becomes ResearchData fields: (what it is, in the words
# of its gap "Yahoo Finance has no ...", parser of yfinance's answer and `info`).
ResearchParser = Callable[[Any, dict[str, Any]], dict[str, Any]]
RESEARCH_PARTS: dict[str, tuple[str, ResearchParser]] = {
    "estimates": (
        "analysts' estimates",
        lambda answer, info: {"estimates": estimates_from_frames(answer, info)},
    ),
    "earnings_history": (
        "earnings history",
        lambda answer, _: {"earnings_history": surprises_from_frame(answer)},
    ),
    "recommendation_trend": (
        "recommendation trend",
        lambda answer, _: {"recommendation_trend": recommendation_trend_from_frame(answer)},
    ),
    "rating_changes": (
        "rating changes",
        lambda answer, _: {"rating_changes": rating_changes_from_frame(answer)},
    ),
    "holders": (
        "ownership or insider data",
        lambda answer, _: {
            "insider_trades": insider_trades_from_frame(answer["trades"]),
            "insider_activity": insider_activity_from_frame(answer["activity"]),
            "ownership": ownership_from_frame(answer["ownership"]),
        },
    ),
    "calendar": ("event calendar", lambda answer, _: {"calendar": calendar_from_dict(answer)}),
    "sec_filings": ("SEC filings", lambda answer, _: {"filings": filings_from_list(answer)}),
}
