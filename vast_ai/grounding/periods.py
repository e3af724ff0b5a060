"""Periods: what the text says a figure is for ("FY2024", "TTM", "forward", "Q3"), what a
fact is for (its period, label and key), and whether the two can be the same."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, NamedTuple

from vast_ai.grounding.lexicon import lowered, normalise, words_pattern

PeriodKind = Literal["fy", "year", "ttm", "forward", "interim", "current", "prior"]


class Period(NamedTuple):
    """`fy`: a fiscal year; `year`: a bare year (a fiscal year, or twelve months ending in
    it); `prior`: the year before the latest fiscal year; `current`: a point in time."""

    kind: PeriodKind
    year: int | None = None


class PeriodMention(NamedTuple):
    start: int
    end: int
    period: Period


_YEAR = r"(?:19|20)\d\d"
_SHORT_YEAR = r"'?\d\d(?!\d)"
_ANY_YEAR = rf"(?:{_YEAR}|{_SHORT_YEAR})"
# Periods written with digits, in `lowered` text (see lexicon.lowered). Most positions
# have no digit close ahead: the guard rejects them at once.
_DIGIT_PERIODS = re.compile(
    rf"""
    (?<![a-z0-9])(?=[fcqhiodb\d(|])(?=[^\d\n]{{0,12}}+\d)
    (?:
        (?:fy|fiscal(?:[ ]year)?)[ \u00a0]?(?P<fy>{_YEAR}|{_SHORT_YEAR})(?P<fy_est>[ef])?
      | (?:cy[ ]?)?(?P<est>{_YEAR})e(?![a-z])
      | (?P<actual>{_YEAR})a(?![a-z])
      | (?P<interim>[1-4]q[ ]?{_ANY_YEAR}|q[1-4](?:[ ]?(?:fy)?{_ANY_YEAR})?
            |[12]h[ ]?{_ANY_YEAR}|h[12](?:[ ]?(?:fy)?{_ANY_YEAR})?|9m[ ]?{_ANY_YEAR})
      | (?:(?:in|for|during|over|calendar|of|by)[ ]|\(|\|[ ]*)(?P<year>{_YEAR})(?![\d/]|-\d)
      | (?P<year_adj>{_YEAR})(?=[ ][a-z])
    )
    (?![a-z0-9])
    """,
    re.VERBOSE,
)
# Periods written in words.
WORD_PERIODS: dict[str, Period] = {
    **dict.fromkeys(
        (
            "first quarter", "second quarter", "third quarter", "fourth quarter", "first half",
            "second half", "latest quarter", "quarterly", "the quarter", "half year", "interim",
        ),
        Period("interim"),
    ),
    **dict.fromkeys(
        (
            "ttm", "ltm", "trailing twelve months", "trailing 12 months", "last twelve months",
            "last 12 months", "past twelve months", "past 12 months", "trailing twelve month",
            "trailing 12 month", "last twelve month", "trailing",
        ),
        Period("ttm"),
    ),
    **dict.fromkeys(
        (
            "forward", "ntm", "next twelve months", "next 12 months", "next year", "next year's",
            "next fiscal year", "next fiscal year's", "consensus estimate", "consensus estimates",
        ),
        Period("forward"),
    ),
    **dict.fromkeys(
        (
            "a year earlier", "a year ago", "a year before", "year ago", "prior year",
            "previous year", "the year before", "last fiscal year",
        ),
        Period("prior"),
    ),
    "as of": Period("current"),
    "latest": Period("current"),
}  # fmt: skip
_WORD_SCAN = words_pattern(WORD_PERIODS)
_DATE_YEAR = re.compile(rf"({_YEAR})-\d\d-\d\d")


def _year(text: str) -> int:
    digits = text.lstrip("'")
    return int(digits) if len(digits) == 4 else 2000 + int(digits)


def _digit_period(match: re.Match[str]) -> Period:
    fy, fy_est, est, actual, interim, year, year_adj = match.group(
        "fy", "fy_est", "est", "actual", "interim", "year", "year_adj"
    )
    if fy:
        return Period("forward" if fy_est else "fy", _year(fy))
    if est:
        return Period("forward", int(est))
    if actual:
        return Period("fy", int(actual))
    if interim:
        return Period("interim")
    return Period("year", int(year or year_adj))


def digit_periods(low: str, start: int = 0, end: int | None = None) -> list[PeriodMention]:
    """The periods written with digits in low[start:end] (`lowered` text): "FY2024",
    "Q3", "2025E"."""
    stop = len(low) if end is None else end
    return [
        PeriodMention(m.start(), m.end(), _digit_period(m))
        for m in _DIGIT_PERIODS.finditer(low, start, stop)
    ]


def find_periods(low: str, start: int = 0, end: int | None = None) -> list[PeriodMention]:
    """The periods named in low[start:end] (`lowered` text), in order."""
    stop = len(low) if end is None else end
    found = digit_periods(low, start, stop)
    words = [
        PeriodMention(m.start(), m.end(), WORD_PERIODS[normalise(m.group())])
        for m in _WORD_SCAN.finditer(low, start, stop)
    ]
    if words:
        found = sorted(found + words)
    return found


_FACT_PRIORITY: dict[PeriodKind, int] = {
    "fy": 0,
    "forward": 1,
    "interim": 2,
    "ttm": 3,
    "prior": 4,
    "current": 5,
    "year": 6,
}


@lru_cache(maxsize=4096)
def fact_period(*texts: str | None) -> Period | None:
    """A fact's period, from its period string, label and key: the most specific one
    named ("FY2024 vs FY2023" is FY2024; "TTM to 2024-12-31" is TTM ending in 2024)."""
    found: list[Period] = []
    for text in texts:
        if text:
            found.extend(m.period for m in find_periods(lowered(text)))
    if not found:
        return None
    best = min(found, key=lambda p: _FACT_PRIORITY[p.kind])
    if best.kind in ("ttm", "current") and best.year is None:
        dated = next((t for t in texts if t and _DATE_YEAR.search(t)), None)
        if dated is not None:
            match = _DATE_YEAR.search(dated)
            assert match is not None
            return Period(best.kind, int(match[1]))
    if best.kind == "year":
        return Period("fy", best.year)
    return best


def resolve(stated: Period, latest_fy: int | None) -> Period:
    """A relative period ("a year earlier") as the fiscal year it names."""
    if stated.kind == "prior" and latest_fy is not None:
        return Period("fy", latest_fy - 1)
    return stated


def compatible(stated: Period | None, fact: Period | None) -> bool:
    """Whether a figure stated for `stated` may be the fact of period `fact`. Only
    periods that clearly differ are told apart; an unknown period fits any."""
    if stated is None or fact is None or stated.kind == "prior":
        return True
    if stated.kind == "forward" or fact.kind == "forward":
        return stated.kind == fact.kind and (
            stated.year is None or fact.year in (None, stated.year)
        )
    if stated.kind == "interim" or fact.kind == "interim":
        return stated.kind == fact.kind
    if fact.kind == "current" or stated.kind == "current":
        return True
    if stated.kind == "ttm":
        return fact.kind == "ttm"
    if fact.kind == "ttm":
        # twelve months to an unknown date may be the fiscal year the text names
        return fact.year is None or (stated.kind == "year" and fact.year == stated.year)
    # a fiscal year, or a bare year (that fiscal year)
    return fact.year == stated.year
