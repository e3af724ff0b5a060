"""Match figures found in the text against the fact sheet and the raw data.

Known values are indexed by value in sorted pools, one per fact unit plus one for
raw data, so each figure costs a few binary searches rather than a scan of every
fact. A figure matches a value within half a unit in the last place it shows.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from vast_ai.grounding.extract import Figure, FigureKind, extract_figures
from vast_ai.schemas import Fact

_RAW_POOL = "raw"

# Raw leaves that are dates or times (epoch seconds look like billions of dollars).
_NOT_A_FIGURE_KEY = re.compile(
    r"(?:date|time|timestamp|epoch|epochutc|yearend|mostrecentquarter)$|^maxage$", re.IGNORECASE
)
_CURRENCY_KEYS = frozenset({"currency", "financialCurrency"})

# For each figure kind: the pools it may match and the factor from pool values to the
# figure's unit (raw fractions are percentages times 100).
_POOLS_FOR_KIND: dict[FigureKind, tuple[tuple[str, float], ...]] = {
    "percent": (("percent", 1.0), (_RAW_POOL, 100.0)),
    "multiple": (("multiple", 1.0), (_RAW_POOL, 1.0)),
    "money": (("currency", 1.0), ("per_share", 1.0), (_RAW_POOL, 1.0)),
    "per_share": (("per_share", 1.0), ("currency", 1.0), (_RAW_POOL, 1.0)),
    "number": (("number", 1.0), ("count", 1.0), (_RAW_POOL, 1.0)),
}
# "391 billion" names no currency: it may be a count of shares as well as money.
_POOLS_FOR_BARE_SCALED = _POOLS_FOR_KIND["money"] + (("count", 1.0), ("number", 1.0))


class Known(NamedTuple):
    """A value the text may quote: a fact, or a numeric leaf of the raw data (whose
    display is only formatted when a figure matches it)."""

    value: float
    key: str
    label: str
    currencies: frozenset[str] | None
    shown: str | None = None

    @property
    def display(self) -> str:
        return self.shown if self.shown is not None else format(self.value, ",.10g")


@dataclass
class _Pool:
    values: list[float]
    known: list[Known]

    def between(self, low: float, high: float) -> Iterator[Known]:
        i = bisect_left(self.values, low)
        while i < len(self.values) and self.values[i] <= high:
            yield self.known[i]
            i += 1


def _pool(items: list[Known]) -> _Pool:
    items.sort(key=lambda k: k.value)
    return _Pool([k.value for k in items], items)


def _percent_points(fact: Fact, value: float) -> float:
    """A percent fact's value in percent points: 0.243 and 24.3 both become 24.3,
    told apart by the fact's display ("24.3%")."""
    shown = extract_figures(fact.display)
    if (
        len(shown) == 1
        and shown[0].kind == "percent"
        and abs(abs(shown[0].value) - abs(value)) <= shown[0].tolerance * 1.001
    ):
        return value
    return value * 100.0


def _facts_by_unit(facts: Sequence[Fact]) -> dict[str, list[Known]]:
    by_unit: dict[str, list[Known]] = {}
    for fact in facts:
        if fact.value is None or not math.isfinite(fact.value):
            continue
        value = _percent_points(fact, fact.value) if fact.unit == "percent" else fact.value
        currencies = frozenset({fact.currency.upper()}) if fact.currency else None
        by_unit.setdefault(fact.unit, []).append(
            Known(value, fact.key, fact.label, currencies, fact.display)
        )
    return by_unit


@lru_cache(maxsize=4096)
def _is_figure_key(key: object) -> bool:
    return not (isinstance(key, str) and _NOT_A_FIGURE_KEY.search(key))


def _child_path(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _raw_leaves(raw: Mapping[str, Any]) -> tuple[list[tuple[str, float]], set[str]]:
    """Numeric leaves of nested dicts and lists with their dotted paths, and the
    currencies the raw data names."""
    leaves: list[tuple[str, float]] = []
    currencies: set[str] = set()
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:
        path, node = stack.pop()
        for key, child in node.items() if isinstance(node, Mapping) else enumerate(node):
            kind = type(child)
            if kind is float or kind is int:
                if _is_figure_key(key) and math.isfinite(child):
                    leaves.append((_child_path(path, key), float(child)))
            elif kind is str:
                if key in _CURRENCY_KEYS and child:
                    currencies.add(child.upper())
            elif (
                kind is dict or kind is list or kind is tuple or isinstance(child, Mapping)
            ) and _is_figure_key(key):
                stack.append((_child_path(path, key), child))
    return leaves, currencies


class FactIndex:
    """The fact sheet and raw data, indexed for matching figures."""

    def __init__(self, facts: Sequence[Fact], raw: Mapping[str, Any] | None = None) -> None:
        self._pools = {unit: _pool(items) for unit, items in _facts_by_unit(facts).items()}
        if raw:
            leaves, currencies = _raw_leaves(raw)
            raw_currencies = frozenset(currencies) or None
            self._pools[_RAW_POOL] = _pool(
                [Known(v, f"raw:{path}", path, raw_currencies) for path, v in leaves]
            )

    def match(self, fig: Figure) -> Known | None:
        """The known value this figure states, or None. Facts win over raw data, and
        the same sign over the opposite one (an unsigned "fell 3.2%" may state -3.2%)."""
        pools = (
            _POOLS_FOR_BARE_SCALED
            if fig.kind == "money" and fig.currencies is None
            else _POOLS_FOR_KIND[fig.kind]
        )
        targets = [fig.value] if fig.signed or fig.value == 0 else [fig.value, -fig.value]
        for name, factor in pools:
            pool = self._pools.get(name)
            if pool is None:
                continue
            for target in targets:
                found = self._closest(pool, fig, target / factor, fig.tolerance / factor)
                if found is not None:
                    return found
        return None

    @staticmethod
    def _closest(pool: _Pool, fig: Figure, target: float, tolerance: float) -> Known | None:
        slack = tolerance + abs(target) * 1e-9  # float noise at the edge of the interval
        best: Known | None = None
        for known in pool.between(target - slack, target + slack):
            if fig.currencies and known.currencies and not fig.currencies & known.currencies:
                continue
            if best is None or abs(known.value - target) < abs(best.value - target):
                best = known
        return best


_RECENT_LIMIT = 4
# (facts, raw's items, index) for the last few reports, newest last.
_recent: list[tuple[Sequence[Fact], tuple[tuple[str, Any], ...], FactIndex]] = []


def index_for(facts: Sequence[Fact], raw: Mapping[str, Any] | None) -> FactIndex:
    """The index of these facts and raw data, reusing a recent one.

    Each section of a report, and each rewrite, is checked against the same fact
    sheet and raw objects, and indexing a large raw dict costs milliseconds. Reuse
    is keyed on object identity (the raw dict itself may be rebuilt around the same
    values); holding the objects keeps their ids from being reused. The data must not
    be changed in place while its report is being checked.
    """
    items = tuple(raw.items()) if raw else ()
    for known_facts, known_items, index in list(_recent):  # a snapshot: other threads append
        if (
            known_facts is facts
            and len(known_items) == len(items)
            and all(
                k1 == k2 and v1 is v2 for (k1, v1), (k2, v2) in zip(known_items, items, strict=True)
            )
        ):
            return index
    index = FactIndex(facts, raw)
    _recent.append((facts, items, index))
    del _recent[:-_RECENT_LIMIT]
    return index
