"""Read what each figure claims: the metric it is stated for (from the words of its clause,
or its table row and column), the period, whose figure it is, the sign the words give
it ("fell 2.1%", "a net loss of"), how exact it is meant to be ("about", "more than")
and whether it is one end of a range or an aside restating the figure before it.

Attribution, in order: a metric named right after the figure ("46.2% gross margin",
"38.8x earnings", "24.0% of revenue"), else the nearest one before it since the
previous figure ("net margin of 24.0%"), else the last one named before an earlier
figure of the clause ("EPS was $6.11 in FY2022 and $6.13 in FY2023") unless it was
bound to that figure ("the mean target of 462p"), else one later in the clause. In a
table: its own cell, its row's label, then its column's header. Only a metric that
can be stated in the figure's unit counts: a percentage of a money line is its
growth, a multiple of earnings a P/E. A list of figures takes a list of as many
metrics or periods in order ("gross, operating and net margins were 46.2%, 31.5% and
24.0%").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from vast_ai.grounding.extract import Figure, range_pairs
from vast_ai.grounding.lexicon import (
    CHANGES,
    CONCEPTS,
    EXTREMES,
    FACT,
    HEDGES,
    METRIC_WORDS,
    MULTIPLE_OF,
    RATIOS,
    UNITS_FOR_KIND,
    Unit,
    aspect_of,
    fact_unit,
    normalise,
    refined,
    trie_pattern,
)
from vast_ai.grounding.periods import Period, PeriodMention
from vast_ai.grounding.tables import NO_TAG, Cell, cell_of, unit_tag, with_unit
from vast_ai.grounding.words import (
    NO_NAMES,
    Clause,
    Marked,
    Mention,
    Names,
    TextIndex,
    in_labels,
    within,
)

# Nouns and adjectives after a figure that make it a change: "a 2.1% decline", "5% higher".
_CHANGE_AFTER = re.compile(
    r"[\s*_]*(?:(?P<rise>higher|increase|rise|gain|jump|improvement|expansion|uplift)"
    r"|(?P<fall>lower|decrease|decline|drop|fall|contraction|deterioration|reduction|slump))\b"
)
_HEDGE = re.compile(
    r"(?<![a-z])(?:"
    + trie_pattern(h for h in HEDGES if not h.startswith(("~", "≈")))
    + r")[\s*_]*$|[~≈][\s*_]*$"
)
_HEDGE_ENDINGS = frozenset(h.split()[-1] for h in HEDGES)  # "about", "than", "of", "c."
_HEDGE_AFTER = re.compile(r"\+|[\s*_]*(?P<words>or so|or more|plus)(?![a-z])")
# Words between a change word and a figure that make the figure a level ("rose to $391B").
_LEVEL = re.compile(r"(?<![a-z])(?:to|at|from|reach(?:ed|ing)?|hit)(?![a-z])")
_COMPARED = re.compile(
    r"(?<![a-z])(?:from|versus|vs\.?|compared\s+(?:with|to)|against|than|relative\s+to)"
    r"[\s*_]*(?:about|around|roughly)?[\s*_]*$"
)
_SHARE_OF = re.compile(
    r"[\s*_]*(?:of|as\s+a\s+(?:share|percentage|proportion)\s+of)\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:(?:total|group|annual|fy\s?'?\d{2,4}|\d{4}|ttm)\s+)*"
)
_FILLER = re.compile(
    r"(?:[\s*_()]|(?<![a-z])(?:of|in|the|a|an|its|their|on|for|trailing|forward|diluted|basic"
    r"|adjusted|reported|annual|annualised|annualized|ttm|ltm|fy\s?'?\d{2,4}|fiscal|\d{4}|'s"
    r"|group|company|total|underlying|current|consensus|implied|next|year|year's|12-month"
    r"|twelve-month|worth|times|x)(?![a-z]))*"
)
_FACT_LINE = re.compile(r"[ \t*_]*(?:\((?:[^()\n]|\([^()\n]*\))*\)[ \t*_]*)?:[ \t*_]*")
_ADJACENT = 45  # characters a metric named after its figure may be away
_TO_TARGET = re.compile(
    r"[\s*_]*(?:to|to\s+(?:reach|hit|get\s+to|meet))\s+(?:the\s+|analysts'\s+)*"
)
# A metric bound to the figure right after it ("the mean target of 462p") is carried on
# to later figures of the clause only if no other metric is named in between.
_TIGHT = re.compile(r"[\s*_]*(?:of|:|=)?[\s*_]*")
# Between a metric named after one figure and the next figure of a list: "38.8x
# trailing earnings and 29.4x forward".
_LIST_GAP = re.compile(r"[\s*_,]*(?:and|or|versus|vs\.?|against|compared\s+with)?[\s*_,]*")
# Between two periods that make a span: "FY2024 vs FY2023", "FY2022 to FY2024".
_SPAN = re.compile(r"[\s*_,]*(?:vs\.?|versus|to|against|over|compared\s+(?:with|to)|[-–])[\s*_]*")
_PERIOD_AFTER = re.compile(r"[\s*_,(]*(?:(?:in|for|during|over|of|as\s+of)\s+)?(?:the\s+)?")
_SUBJECT_AFTER = re.compile(
    r"[\s*_,(]*(?:(?:for|at|of|in|versus|vs\.?|against|among|across)\s+)?(?:the\s+|its\s+)?"
)
# Between the items of a list: ", ", " and ", ", and ".
_LIST_SEPARATOR = re.compile(r"[\s*_]*(?:,[\s*_]*(?:and|or)?|and|or|&|/)[\s*_]*")
_LIST_SEPARATOR_BEFORE = re.compile(_LIST_SEPARATOR.pattern + "$")
_BARE_WORD_BEFORE = re.compile(r"[a-z][a-z/&-]*$")
# Between a list of metrics and its list of figures: "were", "of", ":".
_LIST_LEAD = re.compile(
    r"[\s*_:,]*(?:(?:were|was|are|is|of|at|stood\s+at|came\s+in\s+at|reached|respectively)"
    r"[\s*_:,]*)*(?:(?:about|around|roughly)\s+)?"
)
_ASIDE = re.compile(
    r"[\s*_]*\([\s*_]*(?:c\.|ca\.|~|about|around|or|i\.e\.,?|roughly|approx\.?)?[\s*_]*"
)
_EXTREME_MEMBERS = frozenset().union(*EXTREMES)
_MONEY_UNITS = frozenset({"money", "per_share", "count"})
_CUE_WINDOW = 60  # characters before a figure in which a change word governs it
_NEAR = 15  # characters before the metric in which a sign word applies


class Claim(NamedTuple):
    """What one figure states. `concepts` is empty when no metric is named; `weak` says
    the metric was named before an earlier figure of the clause, or only later in it."""

    figure: Figure
    concepts: tuple[str, ...] = ()
    named: str | None = None  # the words that name the metric, as written
    weak: bool = False
    period: Period | None = None
    subject: str | None = None  # None: the company; a peer's ticker; OTHER
    hedge: str = "exact"
    sign: int = 1
    range_end: Figure | None = None
    mention: Mention | None = None  # the words that named the metric
    line: bool = False  # "label (period): value": the fact that label names, and no other


def _resolve(mention: Mention, fig: Figure, change: bool, cagr: bool) -> tuple[str, ...]:
    """The concepts a mention names that a figure in its unit can state."""
    kind = fig.kind
    return _resolved(
        mention.concepts,
        "points" if fig.points else kind,
        fig.scale <= 1.0,
        kind == "money" and fig.currencies is None,
        change,
        cagr,
    )


@lru_cache(maxsize=4096)
def _resolved(
    concepts: tuple[str, ...],
    kind: str,
    unscaled: bool,
    no_currency: bool,
    change: bool,
    cagr: bool,
) -> tuple[str, ...]:
    found: list[str] = []
    for concept in concepts:
        if concept.startswith("label:"):
            found.append(concept)
            continue
        if concept.startswith(FACT):  # a fact's own label, for a figure of its unit
            if _fact_fits(fact_unit(concept), kind, unscaled, no_currency):
                found.append(concept)
            continue
        unit = CONCEPTS[concept].unit
        if kind == "points":
            if unit == "percent":
                found.append(aspect_of(concept, "chg"))
        elif kind == "percent":
            changed = aspect_of(concept, "cagr" if cagr else "chg")
            # "the net margin fell 2.0%" is a change in it, "fell to 24.0%" its level
            level = unit == "percent" and (not change or concept in CHANGES)
            found.append(concept if level else changed)
        elif kind == "multiple":
            if unit == "multiple":
                found.append(concept)
            found.extend(MULTIPLE_OF.get(concept, ()))
        elif kind == "per_share":
            if unit == "per_share":
                found.append(aspect_of(concept, "diff") if change else concept)
        elif kind == "money":
            if unit == "money" or (unit == "per_share" and unscaled):
                found.append(aspect_of(concept, "diff") if change else concept)
            elif unit == "count" and no_currency:
                found.append(concept)
        else:  # a plain number takes the unit of the metric named
            found.append(aspect_of(concept, "diff") if change and unit != "number" else concept)
    return tuple(dict.fromkeys(found))


def _fact_fits(unit: str, kind: str, unscaled: bool, no_currency: bool) -> bool:
    """Whether a figure of `kind` may state a fact in `unit` (as for the lexicon's
    concepts: "$244.60 per share" is no money line, "$3.67 trillion" no price)."""
    if kind == "money":
        return (
            unit == "money"
            or (unit == "per_share" and unscaled)
            or (unit == "count" and no_currency)
        )
    return unit in UNITS_FOR_KIND.get(kind, ()) and (kind != "per_share" or unit == "per_share")


def _one_revenue_multiple(concepts: tuple[str, ...], enterprise: bool) -> tuple[str, ...]:
    """ "9.3x sales" is a price/sales unless the words speak of enterprise value."""
    if "price_to_sales" in concepts and "ev_to_revenue" in concepts:
        drop = "price_to_sales" if enterprise else "ev_to_revenue"
        return tuple(c for c in concepts if c != drop)
    return concepts


def _refine(concepts: tuple[str, ...], cues: list[Marked]) -> tuple[str, ...]:
    """Extremes narrowed by a word between the metric and the figure ("the high target",
    "the lowest is $197", "52-week low of 270p and high of 541p"): the nearest wins."""
    for cue in reversed(cues):
        if cue.kind and cue.kind.startswith("refine:"):
            picked = refined(concepts, cue.kind.removeprefix("refine:"))
            if picked is not None:
                return (picked,)
    return concepts


def _hedge(low: str, start: int, end: int, stop: int) -> str:
    """How exact the figure at low[start:end] is meant to be: a hedge word right before
    it ("about", "more than", "c.") or right after ("or so", "40+")."""
    lead = low[max(0, start - 30) : start].rstrip(" *_")
    last = lead[lead.rfind(" ") + 1 :]
    if last in _HEDGE_ENDINGS or last[-1:] in ("~", "≈", "."):
        match = _HEDGE.search(low, max(0, start - 30), start)
        if match is not None:
            return HEDGES.get(normalise(match.group().strip(" *_")), "approx")
    if low[end : end + 1] in ("+", " ", "*", "_"):
        after = _HEDGE_AFTER.match(low, end, min(stop, end + 12))
        if after is not None:
            return "approx" if after["words"] == "or so" else "above"
    return "exact"


def _sign(
    fig: Figure, polarity: int, concepts: tuple[str, ...], change: int, negative: bool
) -> int:
    """The sign a figure states: written, or given by its metric ("net loss"), a word
    ("negative", "an outflow of") or, for a change, its direction ("fell 2.1%"); 0 when
    it may be either ("free cash flow of (£441.7m)": an accounting negative or an aside)."""
    if fig.signed:
        return -1 if fig.value < 0 else 1
    if fig.bracketed and polarity > 0 and not negative:
        return 0
    if polarity < 0 or negative:
        return -1
    if change:
        for concept in concepts:
            if "~" in concept or concept in CHANGES:
                return change
    return 1


class _Reading(NamedTuple):
    """What attribution found for one figure."""

    mention: Mention | None = None
    concepts: tuple[str, ...] = ()
    weak: bool = False
    reach: int = 0  # the end of the words after the figure that name its metric


class _ClaimReader:
    """Reads the claims of one section's figures, in order."""

    def __init__(self, text: TextIndex) -> None:
        self.t = text
        self.owned_until = 0  # the end of the words that belong to the previous figure
        self.owned_mentions: set[int] = set()  # metrics named right after their figure
        self.bound: set[int] = set()  # metrics that their figure follows: "revenue of $391bn"

    def prose(self, fig: Figure, next_start: int) -> Claim:
        low = self.t.low
        clause = self.t.clause(fig.start)
        start, end = fig.start, fig.end
        seg_start = max(clause.start, min(self.owned_until, start))
        seg_end = min(clause.end, next_start)
        change = cagr = negative = governs = False
        sign_of_change = 0
        if clause.cues:
            lead_cues = within(clause.cues, max(seg_start, start - _CUE_WINDOW), start)
            sign_of_change, governs = self._change(lead_cues, fig, seg_end)
            change = bool(sign_of_change) and governs
            cagr = any(c.kind == "cagr" for c in lead_cues)
        elif _CHANGE_AFTER.match(low, end, seg_end):
            sign_of_change, governs = self._change([], fig, seg_end)
            change = True
        reading = self._attribute(fig, clause, seg_start, change, cagr)
        mention = reading.mention
        concepts = reading.concepts
        anchor = start
        if mention is not None:
            if concepts and concepts[0] in _EXTREME_MEMBERS:
                span = (mention.start, start) if mention.start < start else (end, mention.end)
                concepts = _refine(concepts, within(clause.cues, *span))
            if "ev_to_revenue" in concepts:
                enterprise = any(
                    "enterprise_value" in m.concepts and m.start < start for m in clause.metrics
                )
                concepts = _one_revenue_multiple(concepts, enterprise)
            anchor = min(anchor, mention.start)
        if clause.cues:
            negative = any(
                c.kind == "negative" and _near_sign(low, c, seg_start, anchor, fig)
                for c in clause.cues
            )
        period, period_end = self._period(fig, clause, seg_start, seg_end, max(end, reading.reach))
        # "label (period): value", a fact sheet line: the label says whose figure it is
        line = (
            mention is not None
            and any(c.startswith(FACT) for c in concepts)
            and _FACT_LINE.fullmatch(low, mention.end, start) is not None
        )
        self.owned_until = max(end, period_end)
        return Claim(
            fig,
            concepts,
            mention.words if mention is not None else None,
            reading.weak,
            period,
            self._subject(fig, clause, seg_end) if clause.subjects and not line else None,
            _hedge(low, start, end, seg_end),
            _sign(
                fig,
                mention.polarity if mention is not None else 1,
                concepts,
                sign_of_change if governs else 0,
                negative,
            ),
            None,
            mention,
            line,
        )

    def _change(self, cues: list[Marked], fig: Figure, seg_end: int) -> tuple[int, bool]:
        """(sign, governs): the direction a change word gives the figure, and whether the
        figure is the amount of change (not the level it changed to: "rose to $391B")."""
        low = self.t.low
        for cue in reversed(cues):
            if cue.kind in ("rise", "fall"):
                sign = 1 if cue.kind == "rise" else -1
                return sign, _LEVEL.search(low, cue.end, fig.start) is None
        after = _CHANGE_AFTER.match(low, fig.end, seg_end)
        if after is not None:
            return (1 if after["rise"] else -1), True
        return 0, False

    def _attribute(
        self, fig: Figure, clause: Clause, seg_start: int, change: bool, cagr: bool
    ) -> _Reading:
        low = self.t.low
        owned = self.owned_mentions
        after: list[Mention] = []
        before: list[Mention] = []
        last: Mention | None = None  # the last metric named before the figure
        for m in clause.metrics:
            if m.end <= fig.start:
                last = m
                if m.start not in owned:
                    before.append(m)
            elif m.start >= fig.end and m.start not in owned:
                after.append(m)
        if (
            last is not None
            and last.start in owned
            and (
                _LIST_GAP.fullmatch(low, last.end, fig.start)  # "38.8x earnings and 29.4x"
                or _TIGHT.fullmatch(low, last.end, fig.start)  # "42.9% to the target of £4.41"
            )
        ):
            before.append(last)
        if after:
            first = after[0]
            if (
                fig.kind == "percent"
                and set(first.concepts) <= _EXTREME_MEMBERS
                and _TO_TARGET.fullmatch(low, fig.end, first.start)
            ):  # "42.9% to reach the mean target": the upside to it
                owned.add(first.start)
                return _Reading(first, ("upside",), reach=first.end)
            if first.start - fig.end <= _ADJACENT and _FILLER.fullmatch(low, fig.end, first.start):
                shared = self._share_of(fig, first, before, after[1:], seg_start)
                if shared is not None:
                    owned.add(first.start)
                    return shared._replace(reach=first.end)
                resolved = _resolve(first, fig, change, cagr)
                if resolved:
                    owned.add(first.start)
                    return _Reading(first, resolved, reach=first.end)
        # a metric in brackets before the figure qualifies another: "Upside to mean target
        # (12-month target): 3.1%"
        if len(before) > 1 and ")" in low[before[0].end : fig.start]:
            before.sort(key=lambda m: not _bracketed(low, m, seg_start, fig.start))
        for mention in reversed(before):
            inherited = mention.start < seg_start
            if inherited and (
                mention is not before[-1]  # another metric named since
                or (
                    mention.start in self.bound  # "the mean target of 462p implies 49.6%
                    and last is not mention  # upside from 309p": bound, then another
                )
            ):
                break
            resolved = _resolve(mention, fig, change, cagr)
            if resolved:
                if _TIGHT.fullmatch(low, mention.end, fig.start):
                    self.bound.add(mention.start)
                return _Reading(mention, resolved, weak=inherited)
        for mention in after:
            resolved = _resolve(mention, fig, change, cagr)
            if resolved:
                return _Reading(mention, resolved, weak=True)
        return _Reading()

    def _share_of(
        self,
        fig: Figure,
        denominator: Mention,
        before: list[Mention],
        later: list[Mention],
        seg_start: int,
    ) -> _Reading | None:
        """ "24.0% of revenue", "0.9x revenue": a ratio of the line named before (or
        after) to the one named here."""
        if fig.kind not in ("percent", "multiple") or fig.points:
            return None
        if fig.kind == "percent" and not _SHARE_OF.fullmatch(
            self.t.low, fig.end, denominator.start
        ):
            return None
        if not _is_line(denominator):
            return None
        in_segment = [m for m in before if m.start >= seg_start]
        numerator = in_segment[-1] if in_segment else later[0] if later else None
        if numerator is None:
            return _Reading(denominator, ()) if fig.kind == "percent" else None
        if not _is_line(numerator):
            return None
        named = [
            name
            for name, (top, bottom) in RATIOS.items()
            if top in numerator.concepts
            and bottom in denominator.concepts
            and CONCEPTS[name].unit == fig.kind
        ]
        own = [f"ratio:{numerator.concepts[0]}/{denominator.concepts[0]}"]
        multiples = list(_resolve(denominator, fig, False, False)) if fig.kind == "multiple" else []
        return _Reading(numerator, tuple(dict.fromkeys([*named, *multiples, *own])))

    def _period(
        self, fig: Figure, clause: Clause, seg_start: int, seg_end: int, named_after: int
    ) -> tuple[Period | None, int]:
        """The period a figure is stated for, and the end of a period named right after
        it or after the metric named after it ("27.8% of revenue in FY2024"): that one
        is its own, not the next figure's."""
        low = self.t.low
        for mention in clause.periods:
            if mention.start < fig.end:
                continue
            if mention.end <= seg_end and (
                mention.start < named_after  # "38.8x trailing earnings"
                or (
                    mention.start - named_after <= 15
                    and _PERIOD_AFTER.fullmatch(low, named_after, mention.start) is not None
                )
            ):
                return mention.period, max(mention.end, named_after)
            break
        before = within(clause.periods, seg_start, fig.start)
        if before and not _COMPARED.search(low, max(seg_start, fig.start - 30), fig.start):
            last = before[-1]
            if len(before) > 1 and _SPAN.fullmatch(low, before[-2].end, last.start):
                # "FY2024 vs FY2023", "from FY2022 to FY2024": a change to the later year
                return max(before[-2:], key=lambda p: p.period.year or 0).period, named_after
            return last.period, named_after
        return None, named_after

    def _subject(self, fig: Figure, clause: Clause, seg_end: int) -> str | None:
        low = self.t.low
        for mention in clause.subjects:
            if mention.start >= fig.end:
                if mention.end <= seg_end and _SUBJECT_AFTER.fullmatch(low, fig.end, mention.start):
                    return mention.kind
                break
        before = [m for m in clause.subjects if m.end <= fig.start]
        return before[-1].kind if before else None

    def table(self, fig: Figure, cell: Cell) -> Claim:
        text = self.t.text
        own = text[cell.own.start : fig.start] + " " + text[fig.end : cell.own.end]
        row_label = text[cell.row[0].start : cell.row[0].end] if cell.column > 0 else ""
        header = text[cell.header.start : cell.header.end] if cell.header else ""
        corner = text[cell.corner.start : cell.corner.end] if cell.corner else ""
        mention: Mention | None = None
        concepts: tuple[str, ...] = ()
        for words in (own, row_label, f"{row_label} {corner}", header, f"{header} {corner}"):
            for found in self.t.cell(words)[0]:
                resolved = _resolve(found, fig, False, False)
                if resolved:
                    mention, concepts = found, resolved
                    break
            if mention is not None:
                break
        cues: list[Marked] = [
            c for words in (own, row_label, header, corner) for c in self.t.cell(words)[2]
        ]
        concepts = _refine(concepts, cues)
        if "ev_to_revenue" in concepts:
            enterprise = any(
                "enterprise_value" in m.concepts
                for words in (row_label, header, corner)
                for m in self.t.cell(words)[0]
            )
            concepts = _one_revenue_multiple(concepts, enterprise)
        others = " ".join(
            text[c.start : c.end] for i, c in enumerate(cell.row) if i not in (0, cell.column)
        )
        period = next(
            (
                found[0].period
                for words in (own, header, row_label, others, corner)
                if (found := self.t.cell(words)[1])
            ),
            None,
        )
        subject = next(
            (found[0].kind for words in (row_label, header) if (found := self.t.cell(words)[3])),
            None,
        )
        return Claim(
            figure=fig,
            concepts=concepts,
            named=mention.words if mention is not None else None,
            mention=mention,
            period=period,
            subject=subject,
            hedge=_hedge(self.t.low, fig.start, fig.end, cell.own.end),
            sign=_sign(
                fig,
                mention.polarity if mention else 1,
                concepts,
                0,
                any(c.kind == "negative" for c in cues),
            ),
        )


def _near_sign(low: str, cue: Marked, seg_start: int, anchor: int, fig: Figure) -> bool:
    """Whether a negative word applies to the figure: between its metric (or a few words
    before it, within the phrase) and the figure, or right after the figure."""
    if fig.end <= cue.start <= fig.end + 3:
        return True
    start = max(seg_start, anchor - _NEAR)
    cut = max(low.rfind(",", start, anchor), low.rfind(";", start, anchor))
    return max(start, cut + 1) <= cue.start and cue.end <= fig.start


def _bracketed(low: str, mention: Mention, seg_start: int, before: int) -> bool:
    """Whether a mention sits in brackets that close before `before`."""
    opened = low.rfind("(", seg_start, mention.start)
    return opened > low.rfind(")", seg_start, mention.start) and ")" in low[mention.end : before]


def _is_line(mention: Mention) -> bool:
    """Whether a mention names an amount (a line of the accounts, a price, a count)."""
    return any(c in CONCEPTS and CONCEPTS[c].unit in _MONEY_UNITS for c in mention.concepts)


def _table_units(text: str, tables: dict, figures: list[Figure]) -> list[Cell | None]:  # type: ignore[type-arg]
    """Each figure's table cell (None in prose); plain numbers take their table's unit."""
    cells: list[Cell | None] = []
    for i, fig in enumerate(figures):
        cell = cell_of(text, tables, fig.start) if tables else None
        cells.append(cell)
        if cell is not None:
            for span in (cell.header, cell.row[0] if cell.column else None, cell.corner):
                tag = unit_tag(text[span.start : span.end]) if span else NO_TAG
                if tag != NO_TAG:
                    figures[i] = with_unit(fig, tag)
                    break
    return cells


def _same_kind(first: Figure, second: Figure) -> bool:
    """Whether the second figure may restate the first: "308.8p (£3.09)", not "£3.0bn
    (+12.6%)"."""
    money = ("money", "per_share")
    return first.kind == second.kind or (first.kind in money and second.kind in money)


def read_claims(
    text: str,
    figures: Sequence[Figure],
    names: Names = NO_NAMES,
    labels: tuple[str, ...] = (),
    fact_labels: tuple[tuple[str, Unit], ...] = (),
) -> list[Claim]:
    """The claim each figure makes, in order (none for a number inside a fact's label)."""
    indexed = TextIndex(text, names, labels, fact_labels)
    spans = in_labels(indexed.low, indexed.vocabulary)
    figures = [f for f in figures if not any(a <= f.start and f.end <= b for a, b in spans)]
    cells = _table_units(text, indexed.tables, figures)
    reader = _ClaimReader(indexed)
    claims: list[Claim] = []
    for i, fig in enumerate(figures):
        cell = cells[i]
        if cell is not None:
            claims.append(reader.table(fig, cell))
            reader.owned_until = fig.end
        else:
            next_start = figures[i + 1].start if i + 1 < len(figures) else len(text)
            claims.append(reader.prose(fig, next_start))
    ranges = range_pairs(figures, text)
    _join_ranges(claims, ranges)
    _restate_asides(text, claims, cells)
    in_range = {i for pair in ranges for i in pair}
    for run in _lists(text, claims, cells, in_range):
        _pair_list(indexed, claims, run)
    return claims


def _join_ranges(claims: list[Claim], ranges: list[tuple[int, int]]) -> None:
    """One claim for both ends of a range: the words before it name it ("upside of
    20–25%")."""
    for i, j in ranges:
        first, second = claims[i], claims[j]
        lead = first if first.concepts else second
        shared = lead._replace(
            period=first.period or second.period,
            subject=first.subject if first.subject is not None else second.subject,
            hedge=first.hedge if first.hedge != "exact" else second.hedge,
        )
        claims[i] = shared._replace(figure=first.figure, range_end=second.figure, sign=first.sign)
        claims[j] = shared._replace(
            figure=second.figure,
            range_end=first.figure,
            sign=second.sign if second.figure.signed else first.sign,
        )


def _restate_asides(text: str, claims: list[Claim], cells: list[Cell | None]) -> None:
    """ "308.8p (£3.09)": the same figure restated; "£3.0bn (+12.6% y/y)": its growth."""
    for i in range(1, len(claims)):
        previous, figure = claims[i - 1], claims[i].figure
        if cells[i] is not None or not _ASIDE.fullmatch(text, previous.figure.end, figure.start):
            continue
        if _same_kind(previous.figure, figure):
            concepts = previous.concepts
        elif previous.mention is not None and (claims[i].weak or not claims[i].concepts):
            concepts = _resolve(previous.mention, figure, False, False)
        else:
            continue
        claims[i] = claims[i]._replace(
            concepts=concepts,
            named=previous.named,
            mention=previous.mention,
            weak=previous.weak,
            period=previous.period,
            subject=previous.subject,
            sign=claims[i].sign if figure.signed else previous.sign,
        )


def _lists(
    text: str, claims: list[Claim], cells: list[Cell | None], skip: set[int]
) -> list[list[int]]:
    """Runs of two or more figures written as a list: "46.2%, 31.5% and 24.0%"."""
    runs: list[list[int]] = []
    for i in range(len(claims)):
        if cells[i] is not None or i in skip:
            continue
        if (
            runs
            and runs[-1][-1] == i - 1
            and _LIST_SEPARATOR.fullmatch(text, claims[i - 1].figure.end, claims[i].figure.start)
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    return [run for run in runs if len(run) >= 2]


def _pair_list(indexed: TextIndex, claims: list[Claim], run: list[int]) -> None:
    """ "Gross, operating and net margins were 46.2%, 31.5% and 24.0%", "revenue of
    $383.3bn and $391.0bn in FY2023 and FY2024": each figure takes the metric and the
    period in the same place of a list of as many."""
    first, last = claims[run[0]].figure, claims[run[-1]].figure
    clause = indexed.clause(first.start)
    low = indexed.low
    metrics = _listed_metrics(low, clause, first.start, len(run))
    periods = _listed_periods(low, clause, first.start, last.end, len(run))
    for place, i in enumerate(run):
        claim = claims[i]
        if metrics:
            resolved = _resolve(metrics[place], claim.figure, False, False)
            if resolved:
                polarity = metrics[place].polarity
                claim = claim._replace(
                    concepts=resolved,
                    named=metrics[place].words,
                    mention=metrics[place],
                    weak=False,
                    sign=-1 if polarity < 0 and not claim.figure.signed else claim.sign,
                )
        if periods:
            claim = claim._replace(period=periods[place].period)
        claims[i] = claim


def _listed_metrics(low: str, clause: Clause, before: int, count: int) -> list[Mention]:
    """The `count` metrics named as a list right before a list of figures; a bare word
    shares the list's last noun ("gross, operating and net margins")."""
    named = [m for m in clause.metrics if m.end <= before]
    if not named or not _LIST_LEAD.fullmatch(low, named[-1].end, before):
        return []
    items = [named[-1]]
    head = named[-1].words.split()[-1]
    end = named[-1].start
    starts = {m.end: m for m in named}
    while len(items) < count:
        separator = _LIST_SEPARATOR_BEFORE.search(low, clause.start, end)
        if separator is None:
            return []
        previous = starts.get(separator.start())
        if previous is None:
            word = _BARE_WORD_BEFORE.search(low, clause.start, separator.start())
            phrase = normalise(f"{word.group()} {head}") if word else ""
            if word is None or phrase not in METRIC_WORDS:
                return []
            words = METRIC_WORDS[phrase]
            previous = Mention(word.start(), word.end(), words.concepts, words.polarity, phrase)
        items.insert(0, previous)
        end = previous.start
    return items


def _listed_periods(
    low: str, clause: Clause, before: int, after: int, count: int
) -> list[PeriodMention]:
    """The `count` periods named as a list right before or right after a list of
    figures ("in FY2023 and FY2024")."""
    for side in (
        [p for p in clause.periods if p.start >= after],
        [p for p in reversed(clause.periods) if p.end <= before],
    ):
        listed = side[:count]
        if len(listed) < count:
            continue
        ordered = sorted(listed)
        gaps = itertools.pairwise(ordered)
        if all(_LIST_SEPARATOR.fullmatch(low, a.end, b.start) for a, b in gaps):
            near = (
                ordered[0].start - after if ordered[0].start >= after else before - ordered[-1].end
            )
            if near <= 30:
                return ordered
    return []
