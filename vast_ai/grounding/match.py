"""Judge each claim against the known values: verified, mismatch or unverified.

A figure is verified when a known value of the metric its words name (and the period
and company they name, and the sign) lies within the precision it shows, widened by a
hedge ("about", "more than") in the direction the hedge says. When none does, a value
recomputed from two listed facts (growth between two years, a margin from its two
lines, a ratio the clause names) may verify it as derived. A figure whose value is in
the data for another metric, period, sign or company is a mismatch, with a note
naming what it really is. A figure whose clause names no metric matches by value
alone only if it shows at least three significant digits, is not hedged, and only
one metric has that value: below that, a match is too likely to be chance
("Series 2" against a score of 2.07; "16%" against a payout ratio).

Known values sit in sorted pools, one per unit, so each figure costs a few binary
searches rather than a scan of every fact.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, Literal

from vast_ai.grounding.claims import Claim
from vast_ai.grounding.extract import Figure
from vast_ai.grounding.known import Known, RawLeaf, knowns
from vast_ai.grounding.lexicon import (
    CONCEPTS,
    EXTREMES,
    HEDGE_BOUNDS,
    METRIC_SCAN,
    RATIOS,
    Unit,
    concept_name,
    concept_unit,
    lowered,
)
from vast_ai.grounding.periods import Period, compatible, resolve
from vast_ai.grounding.words import OTHER, Names
from vast_ai.schemas import Fact

Status = Literal["verified", "mismatch", "unverified"]
Basis = Literal["metric", "value_only", "derived"]

VALUE_ONLY_DIGITS = 3
_MAX_RANGE_WIDTH = 0.5  # a range wider than half its midpoint says too little to verify
_FLOAT_NOISE = 1e-9

# The pools a figure of each unit may match when no metric is named.
_UNITS_FOR_KIND: dict[str, tuple[Unit, ...]] = {
    "percent": ("percent",),
    "multiple": ("multiple",),
    "money": ("money", "per_share"),
    "per_share": ("per_share", "money"),
    "number": ("number", "count"),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    basis: Basis | None = None
    known: Known | None = None
    note: str | None = None


_VALUE = attrgetter("value")


class _Pool:
    """Known values of one unit, sorted; raw leaves are read when first reached."""

    def __init__(self, items: list[Known | RawLeaf]) -> None:
        items.sort(key=_VALUE)
        self.values = [k.value for k in items]
        self.items = items

    def between(self, low: float, high: float) -> list[Known]:
        i, j = bisect_left(self.values, low), bisect_right(self.values, high)
        found = self.items[i:j]
        for n, item in enumerate(found):
            if type(item) is RawLeaf:
                found[n] = self.items[i + n] = item.known()
        return found  # type: ignore[return-value]


def _subject_fits(claim_subject: str | None, known: Known) -> bool:
    if claim_subject is None:
        return known.subject is None
    if claim_subject == OTHER:
        return known.subject is not None
    return known.subject == claim_subject


def _currency_fits(fig: Figure, known: Known) -> bool:
    return not (fig.currencies and known.currencies and not fig.currencies & known.currencies)


def _interval(value: float, tolerance: float, hedge: str) -> tuple[float, float]:
    """Where the truth may lie for a stated value, in the direction of the hedge."""
    below, above = HEDGE_BOUNDS.get(hedge, (0.0, 0.0))
    size = abs(value)
    low = size - tolerance - below * size
    high = size + tolerance + above * size
    if hedge in ("under", "below"):  # "nearly $400bn", "less than 50%": not above it
        high = size
    elif hedge in ("over", "above"):  # "more than $3.5tn": not below it
        low = size
    slack = size * _FLOAT_NOISE
    if value < 0:
        return -high - slack, -low + slack
    return low - slack, high + slack


class FactIndex:
    """The fact sheet and raw data, indexed for judging claims."""

    def __init__(self, facts: Sequence[Fact], raw: Mapping[str, Any] | None = None) -> None:
        everything = knowns(facts, raw)
        by_unit: dict[str, list[Known | RawLeaf]] = {}
        for known in everything:
            by_unit.setdefault(known.unit, []).append(known)
        self._pools = {unit: _Pool(items) for unit, items in by_unit.items()}
        # What notes and recomputed figures draw on: the fact sheet.
        self.by_concept: dict[str, list[Known]] = {}
        for known in everything:
            if type(known) is Known and known.concept is not None:
                self.by_concept.setdefault(known.concept, []).append(known)
        years = [
            k.period.year
            for listed in self.by_concept.values()
            for k in listed
            if k.period and k.period.kind == "fy" and k.period.year
        ]
        self.latest_fy = max(years) if years else None
        self.labels = tuple(
            sorted({c.removeprefix("label:") for c in self.by_concept if c.startswith("label:")})
        )
        self.names = _names(facts, raw)
        self._ratios: dict[
            tuple[str, str, str | None], dict[tuple[str, int | None], tuple[float, Known, Known]]
        ] = {}

    def candidates(self, units: Sequence[str], low: float, high: float, fig: Figure) -> list[Known]:
        found: list[Known] = []
        for unit in units if len(units) == 1 else dict.fromkeys(units):
            pool = self._pools.get(unit)
            if pool is not None:
                found.extend(pool.between(low, high))
        if fig.currencies and found:
            return [k for k in found if _currency_fits(fig, k)]
        return found

    # -- judging ---------------------------------------------------------------------
    def judge(self, claim: Claim) -> Verdict:
        if claim.sign == 0:  # either sign: the one the data has
            positive = self._judge(claim._replace(sign=1))
            if positive.status == "verified":
                return positive
            negative = self._judge(claim._replace(sign=-1))
            return negative if negative.status == "verified" else positive
        return self._judge(claim)

    def _judge(self, claim: Claim) -> Verdict:
        fig = claim.figure
        value = abs(fig.value) * claim.sign
        low, high = _interval(value, fig.tolerance, claim.hedge)
        if not claim.concepts:
            return self._by_value(claim, low, high)
        concepts = _with_extremes(claim)
        units = _units(concepts, fig.kind)
        period = resolve(claim.period, self.latest_fy) if claim.period else None
        found = self.candidates(units, low, high, fig)

        def states(k: Known) -> bool:
            return k.concept in concepts and _subject_fits(claim.subject, k)

        best = _best((k for k in found if states(k) and compatible(period, k.period)), value)
        if best is not None:
            return Verdict("verified", "metric", best)
        derived = self._derived(claim, period, low, high)
        if derived is not None:
            return derived
        if not _extremes(concepts):
            in_range = self._in_range(claim, period, units)
            if in_range is not None:
                return in_range
        return self._mismatch(claim, period, found, units, states) or self._unverified(claim)

    def _by_value(self, claim: Claim, low: float, high: float) -> Verdict:
        fig = claim.figure
        precise = fig.digits >= VALUE_ONLY_DIGITS and claim.hedge == "exact"
        if not precise or claim.range_end is not None:
            return Verdict("unverified", note=_NO_METRIC)
        found = [
            k
            for k in self.candidates(_UNITS_FOR_KIND[fig.kind], low, high, fig)
            if _subject_fits(claim.subject, k)
        ]
        facts = [k for k in found if not k.from_raw]
        found = facts or found  # the fact sheet is what the text was written from
        metrics = {k.concept or k.key for k in found}
        if len(metrics) == 1:
            best = _best(found, fig.value)
            assert best is not None
            return Verdict(
                "verified", "value_only", best, f"matched by value alone: {best.described}"
            )
        if metrics:
            names = " or ".join(sorted({k.described for k in found})[:3])
            return Verdict("unverified", note=f"{_NO_METRIC}; by value it may be {names}")
        return Verdict("unverified", note=_NO_METRIC)

    def _mismatch(
        self,
        claim: Claim,
        period: Period | None,
        found: list[Known],
        units: Sequence[Unit],
        states: Callable[[Known], bool],
    ) -> Verdict | None:
        fig = claim.figure
        value = abs(fig.value) * claim.sign
        wrong_period = _best((k for k in found if states(k)), value)
        if wrong_period is not None:
            note = f"{fig.text} is {wrong_period.described}, not {_period_words(claim.period)}"
            return Verdict("mismatch", known=wrong_period, note=note)
        low, high = _interval(-value, fig.tolerance, claim.hedge)
        flipped = self.candidates(units, low, high, fig)
        wrong_sign = _best(
            (k for k in flipped if states(k) and compatible(period, k.period)), -value
        )
        if wrong_sign is not None:
            direction = "a fall or a loss" if wrong_sign.value < 0 else "a rise or a gain"
            note = f"{wrong_sign.described} is {wrong_sign.display} ({direction}), not {fig.text}"
            if claim.sign < 0 and not fig.signed:
                note += " stated as a fall or a loss"
            return Verdict("mismatch", known=wrong_sign, note=note)
        other_metric = _best(
            (k for k in (*found, *flipped) if _subject_fits(claim.subject, k)), value
        )
        if other_metric is not None:
            note = f"{fig.text} is {other_metric.described}, not the {_stated(claim)}"
            return Verdict("mismatch", known=other_metric, note=note)
        other_company = _best((k for k in found if k.concept in claim.concepts), value)
        if other_company is not None:
            whose = "the company's " if other_company.subject is None else ""
            note = f"{fig.text} is {whose}{other_company.described}, not {_whose(claim)}"
            return Verdict("mismatch", known=other_company, note=note)
        return None

    def _unverified(self, claim: Claim) -> Verdict:
        same = [
            k
            for c in claim.concepts
            for k in self.by_concept.get(c, ())
            if _subject_fits(claim.subject, k)
        ]
        if not same:
            note = f"the data has no {_stated(claim)} figure of {claim.figure.text}"
            return Verdict("unverified", note=note)
        listed = "; ".join(f"{k.described} is {k.display}" for k in same[:3])
        return Verdict("unverified", note=f"not in the data: {listed}")

    def _in_range(
        self, claim: Claim, period: Period | None, units: Sequence[Unit]
    ) -> Verdict | None:
        """Both ends of "10–12%" are verified when the truth lies between them."""
        other = claim.range_end
        if other is None:
            return None
        fig = claim.figure
        ends = sorted((abs(fig.value) * claim.sign, abs(other.value) * claim.sign))
        width, middle = ends[1] - ends[0], abs(ends[0] + ends[1]) / 2
        if middle == 0 or width > _MAX_RANGE_WIDTH * middle:
            return None
        tolerance = max(fig.tolerance, other.tolerance)
        found = self.candidates(units, ends[0] - tolerance, ends[1] + tolerance, fig)
        best = _best(
            (
                k
                for k in found
                if k.concept in claim.concepts
                and _subject_fits(claim.subject, k)
                and compatible(period, k.period)
            ),
            (ends[0] + ends[1]) / 2,
        )
        if best is None:
            return None
        return Verdict("verified", "metric", best, f"the range holds {best.described}")

    # -- derived figures -------------------------------------------------------------
    def _derived(
        self, claim: Claim, period: Period | None, low: float, high: float
    ) -> Verdict | None:
        for value, note, used in self._recomputed(claim, period):
            if low <= value <= high:
                return Verdict("verified", "derived", used, note)
        return None

    def _recomputed(
        self, claim: Claim, period: Period | None
    ) -> Iterator[tuple[float, str, Known]]:
        for concept in claim.concepts:
            base, _, aspect = concept.partition("~")
            if concept.startswith("ratio:"):
                numerator, _, denominator = concept.removeprefix("ratio:").partition("/")
                yield from self._ratio(numerator, denominator, claim, period, concept)
            elif aspect in ("chg", "diff", "cagr") and base in CONCEPTS:
                yield from self._change(base, aspect, claim, period)
            elif concept in RATIOS:
                numerator, denominator = RATIOS[concept]
                yield from self._ratio(numerator, denominator, claim, period, concept)

    def _listed(self, concept: str, claim: Claim) -> list[Known]:
        """The facts (not raw leaves) of a concept for the claim's company: what a
        figure may be recomputed from."""
        return [k for k in self.by_concept.get(concept, ()) if _subject_fits(claim.subject, k)]

    def _yearly(self, concept: str, claim: Claim) -> dict[int, Known]:
        """A concept's fiscal-year facts, by year (for the claim's company)."""
        years: dict[int, Known] = {}
        for known in self._listed(concept, claim):
            period = known.period
            if period is not None and period.kind == "fy" and period.year is not None:
                years.setdefault(period.year, known)
        return years

    def _change(
        self, base: str, aspect: str, claim: Claim, period: Period | None
    ) -> Iterator[tuple[float, str, Known]]:
        if base in RATIOS:
            yield from self._ratio_change(base, claim, period)
            return
        years = self._yearly(base, claim)
        if len(years) < 2:
            return
        ordered = sorted(years)
        end = period.year if period is not None and period.year in years else ordered[-1]
        if aspect == "cagr":
            start = ordered[0]
            first, last = years[start], years[end]
            span = end - start
            if span > 0 and first.value > 0 and last.value > 0:
                rate = ((last.value / first.value) ** (1 / span) - 1) * 100
                yield rate, _how(f"{span}-year CAGR", rate, "%", first, last), last
            return
        if end - 1 not in years:
            return
        before, after = years[end - 1], years[end]
        if aspect == "diff":
            change = after.value - before.value
            yield change, _how("change", change, "", before, after), after
        elif before.value > 0:
            growth = (after.value / before.value - 1) * 100
            yield growth, _how("growth", growth, "%", before, after), after

    def _ratio_values(
        self, numerator: str, denominator: str, claim: Claim
    ) -> dict[tuple[str, int | None], tuple[float, Known, Known]]:
        """numerator/denominator for each period both are listed for (the facts do not
        change: kept per pair and company)."""
        cached = self._ratios.get((numerator, denominator, claim.subject))
        if cached is not None:
            return cached
        found: dict[tuple[str, int | None], tuple[float, Known, Known]] = {}
        self._ratios[(numerator, denominator, claim.subject)] = found
        tops = self._listed(numerator, claim)
        bottoms = self._listed(denominator, claim)
        for top in tops:
            for bottom in bottoms:
                if bottom.value == 0 or top.unit != bottom.unit:
                    continue
                shared, period = _common_period(top.period, bottom.period)
                if shared:
                    key = (period.kind, period.year) if period else ("", None)
                    found.setdefault(key, (top.value / bottom.value, top, bottom))
        return found

    def _ratio(
        self, numerator: str, denominator: str, claim: Claim, period: Period | None, concept: str
    ) -> Iterator[tuple[float, str, Known]]:
        scale = 100.0 if claim.figure.kind == "percent" else 1.0
        values = self._ratio_values(numerator, denominator, claim)
        if period is None and values:
            # no period named: the latest one (the latest fiscal year before older ones)
            values = dict([max(values.items(), key=lambda item: _recency(item[0]))])
        for (kind, year), (ratio, top, bottom) in values.items():
            if period is not None and not compatible(period, Period(kind, year)):  # type: ignore[arg-type]
                continue
            value = ratio * scale
            unit = "%" if scale == 100.0 else "x"
            yield value, _how(concept_name(concept), value, unit, top, bottom, "/"), top

    def _ratio_change(
        self, ratio: str, claim: Claim, period: Period | None
    ) -> Iterator[tuple[float, str, Known]]:
        numerator, denominator = RATIOS[ratio]
        values = self._ratio_values(numerator, denominator, claim)
        years = {year: v for (kind, year), v in values.items() if kind == "fy" and year}
        if len(years) < 2:
            return
        end = period.year if period is not None and period.year in years else max(years)
        if end - 1 in years:
            (now, top, _), (then, _, _) = years[end], years[end - 1]
            points = (now - then) * 100
            note = (
                f"recomputed: {concept_name(ratio)} FY{end} {now * 100:.1f}% against "
                f"FY{end - 1} {then * 100:.1f}% is {points:+.1f} points"
            )
            yield points, note, top


_NO_METRIC = "its sentence names no metric"


@lru_cache(maxsize=4096)
def _units(concepts: tuple[str, ...], kind: str) -> tuple[Unit, ...]:
    """The units claimed concepts are stated in (a ratio of two lines, or a label the
    lexicon does not know, in the figure's)."""
    own: Unit = "percent" if kind == "percent" else "multiple" if kind == "multiple" else "number"
    units = (own if c.startswith(("label:", "ratio:")) else concept_unit(c) for c in concepts)
    return tuple(dict.fromkeys(units))


def _recency(key: tuple[str, int | None]) -> tuple[int, int]:
    """How recent a period is: later years first, then twelve months to date."""
    kind, year = key
    return (year or 0, {"fy": 0, "ttm": 1, "current": 2}.get(kind, -1))


def _common_period(first: Period | None, second: Period | None) -> tuple[bool, Period | None]:
    """Whether two facts are for one period (a point in time goes with any), and which."""
    if first == second:
        return True, first
    if first is None or first.kind == "current":
        return True, second
    if second is None or second.kind == "current":
        return True, first
    return False, None


def _with_extremes(claim: Claim) -> tuple[str, ...]:
    """A range of extremes states each of them: "$197–$325" are the low and high targets."""
    if claim.range_end is None:
        return claim.concepts
    family = _extremes(claim.concepts)
    return tuple(dict.fromkeys((*claim.concepts, *sorted(family)))) if family else claim.concepts


def _extremes(concepts: Sequence[str]) -> frozenset[str]:
    return next((f for f in EXTREMES if f & set(concepts)), frozenset())


def _best(found: Iterable[Known], target: float) -> Known | None:
    """The fact nearest the stated value (facts before raw leaves)."""
    best: Known | None = None
    best_key = (True, 0.0)
    for known in found:
        key = (known.from_raw, abs(known.value - target))
        if best is None or key < best_key:
            best, best_key = known, key
    return best


def _stated(claim: Claim) -> str:
    """The metric a claim states, as a reader names it: "operating margin", "P/E or
    price/sales". Never the words that led to it: in "trades at 77.7x sales" those are
    "trades at" (the price, the multiple's numerator), which name no metric of their own.
    A ratio of two lines is named only when no metric of the lexicon is."""
    names = [concept_name(c) for c in claim.concepts if not c.startswith("ratio:")]
    names = list(dict.fromkeys(names or map(concept_name, claim.concepts)))[:3]
    return " or ".join(names) if len(names) <= 2 else f"{names[0]}, {names[1]} or {names[2]}"


def _period_words(period: Period | None) -> str:
    if period is None:
        return "the period stated"
    if period.kind in ("fy", "year") and period.year:
        return f"FY{period.year}" if period.kind == "fy" else str(period.year)
    return {
        "ttm": "the trailing twelve months",
        "forward": "the forward estimate",
        "interim": "the interim period stated",
        "prior": "the prior year",
        "current": "the current figure",
    }.get(period.kind, "the period stated")


def _whose(claim: Claim) -> str:
    if claim.subject is None:
        return "the company's"
    return "a peer group's" if claim.subject == OTHER else f"{claim.subject}'s"


def _how(what: str, value: float, unit: str, first: Known, second: Known, op: str = "to") -> str:
    return (
        f"recomputed {what} {value:,.2f}{unit} from {first.described} {first.display} "
        f"{op} {second.described} {second.display}"
    )


def _names(facts: Sequence[Fact], raw: Mapping[str, Any] | None) -> Names:
    """The words that name the company (from the raw company data) and each peer (its
    ticker, and the words of its labels before the metric)."""
    own: set[str] = set()
    company = raw.get("company_data") if isinstance(raw, Mapping) else None
    if isinstance(company, Mapping):
        for key in ("name", "longName", "shortName", "ticker", "symbol"):
            value = company.get(key)
            if isinstance(value, str) and 0 < len(value) <= 80:
                own.add(value.strip())
                first = value.split()[0].strip(",.") if value.split() else ""
                if len(first) >= 3:
                    own.add(first)
                own.add(value.split(".")[0])
    peers: dict[str, set[str]] = {}
    for fact in facts:
        if not fact.subject:
            continue
        ticker = fact.subject.upper()
        words = peers.setdefault(ticker, {ticker, ticker.split(".")[0]})
        metric = METRIC_SCAN.search(lowered(fact.label))
        head = fact.label[: metric.start()] if metric else ""
        head = head.strip(" -:(").removesuffix("'s").removesuffix("’s").strip()
        if head and head.upper() != ticker and len(head) >= 3:
            words.add(head)
    return Names(
        own=tuple(sorted(w for w in own if w)),
        peers=tuple(sorted((t, tuple(sorted(n))) for t, n in peers.items())),
    )


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
