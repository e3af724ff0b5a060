"""What the text may state: the fact sheet and the numeric leaves of the raw data, each
with its value in the unit a figure states it, the metric it is (read from its label
or key through the lexicon), its period and whose figure it is.

Raw data is untrusted and arbitrarily shaped: only leaves whose key names a metric
are kept (so each has a unit: a raw share price never verifies a multiple, beta never
a dividend), and integers or floats that no company figure could be (a 4,000-digit
integer, infinities) are skipped without converting them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from vast_ai.grounding.extract import extract_figures
from vast_ai.grounding.lexicon import (
    CAGR_WORDS,
    CHANGES,
    CONCEPTS,
    FAMILIES,
    GROWTH_WORDS,
    METRIC_SCAN,
    METRIC_WORDS,
    REFINERS,
    Aspect,
    Unit,
    aspect_of,
    concept_name,
    concept_unit,
    fact_concept,
    lowered,
    normalise,
    refined,
    words_pattern,
)
from vast_ai.grounding.periods import Period, fact_period
from vast_ai.grounding.words import OTHER
from vast_ai.schemas import Fact

_FACT_UNITS: dict[str, Unit] = {
    "currency": "money",
    "per_share": "per_share",
    "percent": "percent",
    "multiple": "multiple",
    "count": "count",
    "number": "number",
}
_MAX_MAGNITUDE = 1e16
# Raw leaves that are dates or times (epoch seconds look like billions of dollars).
_NOT_A_FIGURE_KEY = re.compile(
    r"(?:date|time|timestamp|epoch|epochutc|yearend|mostrecentquarter|days)$|^maxage$",
    re.IGNORECASE,
)
_CURRENCY_KEYS = frozenset({"currency", "financialCurrency", "financial_currency"})
_SCALARS = (bool, type(None))
_GENERIC_LEAVES = frozenset({"raw", "value", "fmt", "longfmt", "amount", "val"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|_+")
_GROWTH = words_pattern(GROWTH_WORDS)
_CAGR = words_pattern(CAGR_WORDS)
_REFINER = words_pattern(REFINERS)
_PEER_GROUP = words_pattern(("peer median", "peers", "peer group", "sector median"))


class Known(NamedTuple):
    """A value the text may quote: a fact, or a numeric leaf of the raw data.

    `value` is in the unit a figure states it (percent points for percentages).
    `concept` is None when neither label nor key names a metric the lexicon knows.
    """

    value: float
    unit: Unit
    concept: str | None
    period: Period | None
    subject: str | None
    currencies: frozenset[str] | None
    key: str
    label: str
    shown: str | None = None
    when: str | None = None  # the period as the data states it
    from_raw: bool = False
    tag: str | None = None  # the concept its own label names (fact_concept)

    @property
    def display(self) -> str:
        return self.shown if self.shown is not None else format(self.value, ",.10g")

    @property
    def described(self) -> str:
        """The fact as a note names it: "net margin (FY2024)"."""
        label = self.label[:1].lower() + self.label[1:] if self.label[1:2].islower() else self.label
        if self.subject:
            label = label if self.subject.lower() in label.lower() else f"{self.subject} {label}"
        if self.when and self.when not in label:
            label = f"{label} ({self.when})"
        return label


def words_of_key(key: str) -> str:
    """A key as words: "trailingPE" is "trailing PE", "free_cash_flow" "free cash flow"."""
    return _CAMEL.sub(" ", key).strip()


def _pick(concepts: tuple[str, ...], unit: Unit) -> str | None:
    for concept in concepts:
        if concept_unit(concept) == unit:
            return concept
    return None


@lru_cache(maxsize=4096)
def classify(text: str, unit: Unit | None) -> str | None:
    """The concept a label or key names, in the unit given (if known): the leftmost
    metric phrase, taken as a growth or CAGR when the words say so."""
    text = lowered(text)
    match = METRIC_SCAN.search(text)
    if match is None:
        return None
    words = METRIC_WORDS[normalise(match.group())]
    concepts = words.concepts
    if not concepts:  # words that name no metric ("holding shares")
        return None
    if len(concepts) > 1 or any(concepts[0] in family.values() for family in FAMILIES):
        for match in _REFINER.finditer(text):
            picked = refined(concepts, REFINERS[normalise(match.group())])
            if picked is not None:
                return picked
    aspect: Aspect = "cagr" if _CAGR.search(text) else "chg" if _GROWTH.search(text) else ""
    if unit is None:
        return aspect_of(concepts[0], aspect)
    level = _pick(concepts, unit)
    if level is not None and (not aspect or level in CHANGES):
        return level
    for concept in concepts:
        base_unit = CONCEPTS[concept].unit
        if aspect and unit == "percent":
            return aspect_of(concept, aspect)
        if aspect and unit == base_unit:
            return aspect_of(concept, "diff")
    if level is not None:
        return level
    if unit == "percent" and CONCEPTS[concepts[0]].unit in ("money", "per_share", "count"):
        return aspect_of(concepts[0], "chg")
    return None


def _label_concept(label: str) -> str | None:
    """A concept for a label the lexicon does not know: its own words, so that a text
    naming them states it ("installed base" for a fact "Installed base (devices)")."""
    words = normalise(re.sub(r"\([^)]*\)", " ", label))
    words = re.sub(r"\b(?:fy|ttm|ltm)?\s?\d{2,4}\b", " ", words).strip()
    return f"label:{words}" if len(words) >= 3 else None


@lru_cache(maxsize=4096)
def _shown_percent(shown: str) -> tuple[float, float] | None:
    """The value and tolerance of a display that is one percentage ("24.3%")."""
    figures = extract_figures(shown)
    if len(figures) == 1 and figures[0].kind == "percent":
        return abs(figures[0].value), figures[0].tolerance
    return None


def _percent_points(shown: str | None, value: float) -> float:
    """A percent value in percent points: 0.243 and 24.3 both become 24.3, told apart
    by the display ("24.3%"), or by size when there is none (|x| < 2 is a fraction)."""
    parsed = _shown_percent(shown) if shown else None
    if parsed is not None:
        points, tolerance = parsed
        return value if abs(points - abs(value)) <= tolerance * 1.001 else value * 100.0
    return value * 100.0 if abs(value) < 2.0 else value


def _group_subject(label: str) -> str | None:
    """OTHER for a fact about the peers as a group ("Peer median P/E", "P/E vs peers:
    median multiple"), which is not the company's own figure."""
    return OTHER if _PEER_GROUP.search(lowered(label)) else None


def from_fact(fact: Fact) -> Known | None:
    if fact.value is None or not math.isfinite(fact.value) or abs(fact.value) > _MAX_MAGNITUDE:
        return None
    unit = _FACT_UNITS[fact.unit]
    value = _percent_points(fact.display, fact.value) if unit == "percent" else fact.value
    concept = (
        classify(fact.label, unit)
        or classify(words_of_key(fact.key), unit)
        or _label_concept(fact.label or fact.key)
    )
    return Known(
        value=value,
        unit=unit,
        concept=concept,
        period=fact_period(fact.period, fact.label, words_of_key(fact.key)),
        subject=fact.subject.upper() if fact.subject else _group_subject(fact.label),
        currencies=frozenset({fact.currency.upper()}) if fact.currency else None,
        key=fact.key,
        label=fact.label or fact.key,
        shown=fact.display or None,
        when=fact.period,
        tag=fact_concept(fact.label, unit) if fact.label else None,
    )


@lru_cache(maxsize=4096)
def _raw_concept(key: str) -> tuple[str, Unit] | None:
    """The concept and unit a raw key names (cached: raw keys repeat across reports)."""
    words = words_of_key(key)
    concept = classify(words, None)
    if concept is None:
        return None
    return concept, concept_unit(concept)


@lru_cache(maxsize=4096)
def _is_figure_key(key: object) -> bool:
    return not (isinstance(key, str) and _NOT_A_FIGURE_KEY.search(key))


def _number(value: object) -> float | None:
    """A finite number of plausible size, or None (booleans, huge ints, NaN, strings):
    bounds are compared before any conversion, so a 4,000-digit int never overflows."""
    if (type(value) is int or type(value) is float) and -_MAX_MAGNITUDE <= value <= _MAX_MAGNITUDE:
        return float(value)
    return None


@lru_cache(maxsize=4096)
def _segment_period(segment: str) -> Period | None:
    return fact_period(segment)


def _path_period(path: tuple[str, ...]) -> Period | None:
    for segment in reversed(path):
        period = _segment_period(segment)
        if period is not None:
            return period
    return None


@lru_cache(maxsize=4096)
def _leaf_concept(key: str, parent: str) -> tuple[str, Unit] | None:
    """What a raw leaf names: its key, or its parent's for "raw"/"value" leaves."""
    return _raw_concept(parent if key.lower() in _GENERIC_LEAVES and parent else key)


def _record(node: Mapping[str, Any]) -> tuple[float, str | None, str | None, str | None] | None:
    """A dict that describes one figure ({"label", "value", "display", "period"}):
    its value, label, display and period."""
    number = _number(node["value"])
    if number is None:
        return None
    label, shown, period = (node.get(k) for k in ("label", "display", "period"))
    return (
        number,
        label if isinstance(label, str) else None,
        shown if isinstance(shown, str) else None,
        period if isinstance(period, str) else None,
    )


class RawLeaf(NamedTuple):
    """A numeric raw leaf that names a metric, read into a Known only when a figure
    comes near its value (most never do, and a raw dict holds thousands)."""

    value: float  # in the unit a figure states it
    unit: Unit
    concept: str
    path: tuple[str, ...]
    record: tuple[float, str | None, str | None, str | None] | None
    currencies: frozenset[str] | None

    def known(self) -> Known:
        _, label, shown, when = self.record or (self.value, None, None, None)
        return Known(
            value=self.value,
            unit=self.unit,
            concept=self.concept,
            period=fact_period(when, label) or _path_period(self.path),
            subject=None,
            currencies=self.currencies,
            key="raw:" + ".".join(self.path),
            label=label or f"{concept_name(self.concept)} ({'.'.join(self.path)})",
            shown=shown,
            when=when,
            from_raw=True,
        )


def raw_leaves(raw: Mapping[str, Any]) -> list[RawLeaf]:
    """The numeric leaves of nested dicts and lists whose key names a metric."""
    found: list[tuple[tuple[str, ...], tuple[str, Unit], float, Any]] = []
    keep = found.append
    currencies: set[str] = set()
    stack: list[tuple[tuple[str, ...], Any]] = [((), raw)]
    push = stack.append
    while stack:
        path, node = stack.pop()
        parent = path[-1] if path else ""
        if type(node) is dict or (type(node) not in (list, tuple) and isinstance(node, Mapping)):
            if "value" in node and ("label" in node or "display" in node):
                record = _record(node)
                if record is not None:
                    named = _raw_concept(record[1]) if record[1] else None
                    named = named or _leaf_concept(parent, "")
                    if named is not None:
                        keep((path, named, record[0], record))
                    continue
            items: Any = node.items()
        else:
            items = enumerate(node)
        for key, child in items:
            kind = type(child)
            if kind is float or kind is int:
                if type(key) is str and -_MAX_MAGNITUDE <= child <= _MAX_MAGNITUDE:
                    named = _leaf_concept(key, parent)  # NaN fails the bounds above
                    if named is not None and _is_figure_key(key):
                        keep(((*path, key), named, float(child), None))
            elif kind is str:
                if key in _CURRENCY_KEYS and 0 < len(child) <= 8:
                    currencies.add(child.upper())
            elif kind in _SCALARS:
                continue
            elif (
                kind is dict or kind is list or kind is tuple or isinstance(child, Mapping)
            ) and _is_figure_key(key):
                push(((*path, str(key)), child))
    money = frozenset(currencies) or None
    return [
        RawLeaf(
            _percent_points(record[2] if record else None, number) if unit == "percent" else number,
            unit,
            concept,
            path,
            record,
            money if unit in ("money", "per_share") else None,
        )
        for path, (concept, unit), number, record in found
    ]


def knowns(facts: Sequence[Fact], raw: Mapping[str, Any] | None) -> list[Known | RawLeaf]:
    """Every fact and raw leaf that may be quoted, facts first."""
    found: list[Known | RawLeaf] = [k for k in map(from_fact, facts) if k is not None]
    if raw:
        found.extend(raw_leaves(raw))
    return found
