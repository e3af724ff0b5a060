"""Markdown tables: the cells of each body row, the header above each column, and the
unit a header or row label gives its plain numbers ("Revenue ($bn)", "£m", "DKKbn",
"Margin (%)", "EV/EBITDA (x)", "Share price (p)")."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from vast_ai.grounding.extract import Figure

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")
_UNIT_TAG = re.compile(
    r"(?<![A-Za-z])(?:(?P<pence>GBp|GBX|pence|\(p\))"
    r"|(?P<cur>US\$|\$|£|€|DKK|USD|GBP|EUR|SEK|NOK|CHF)"
    r"[ ]?(?P<scale>bn|billions?|m|mn|millions?|k|thousands?|tn|trillions?)?"
    r"|(?P<scale_only>bn|billions|millions|mn|thousands)|(?P<pct>%|per\s?cent|percent)"
    r"|(?P<mult>\(x\)|times))(?![A-Za-z])"
)
_SCALE_WORDS = {
    "bn": 1e9, "billion": 1e9, "billions": 1e9, "m": 1e6, "mn": 1e6, "million": 1e6,
    "millions": 1e6, "k": 1e3, "thousand": 1e3, "thousands": 1e3, "tn": 1e12,
    "trillion": 1e12, "trillions": 1e12,
}  # fmt: skip
_CURRENCY_TAGS = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN"}),
    "us$": frozenset({"USD"}),
    "usd": frozenset({"USD"}),
    "£": frozenset({"GBP"}),
    "gbp": frozenset({"GBP"}),
    "€": frozenset({"EUR"}),
    "eur": frozenset({"EUR"}),
    "dkk": frozenset({"DKK"}),
    "sek": frozenset({"SEK"}),
    "nok": frozenset({"NOK"}),
    "chf": frozenset({"CHF"}),
}

UnitTag = tuple[frozenset[str] | None, float, str | None]  # currencies, scale, suffix
NO_TAG: UnitTag = (None, 1.0, None)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass
class Table:
    header: list[Span]
    rows: dict[int, list[Span]] = field(default_factory=dict)  # line start: cells


@dataclass(frozen=True, slots=True)
class Cell:
    """Where a figure sits in a table: its own cell, its row and its column's header."""

    own: Span
    row: tuple[Span, ...]
    column: int
    header: Span | None
    corner: Span | None  # the header of the first column


def _cells(text: str, start: int, end: int) -> list[Span]:
    """The cells of a table line: the spans between its bars."""
    line = text[start:end].rstrip()
    bars = [start + i for i, char in enumerate(line) if char == "|"]
    if not line.endswith("|"):
        bars.append(start + len(line))
    return [Span(a + 1, b) for a, b in itertools.pairwise(bars)]


def find_tables(text: str) -> dict[int, tuple[Table, list[Span]]]:
    """Each table body line (by its start offset): its table and cells."""
    lines: dict[int, tuple[Table, list[Span]]] = {}
    if "|" not in text:
        return lines
    table: Table | None = None
    previous: tuple[int, int] | None = None
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        if not line.lstrip().startswith("|"):
            table, previous = None, None
            continue
        if previous is not None and _SEPARATOR.match(line):
            table = Table(header=_cells(text, *previous))
            continue
        if table is not None:
            cells = _cells(text, start, end)
            table.rows[start] = cells
            lines[start] = (table, cells)
        previous = (start, end)
    return lines


def cell_of(text: str, tables: dict[int, tuple[Table, list[Span]]], pos: int) -> Cell | None:
    """The table cell at `pos`, if it is in a table's body."""
    line_start = text.rfind("\n", 0, pos) + 1
    found = tables.get(line_start)
    if found is None:
        return None
    table, cells = found
    for column, cell in enumerate(cells):
        if cell.start <= pos < cell.end:
            header = table.header[column] if column < len(table.header) else None
            corner = table.header[0] if table.header and column > 0 else None
            return Cell(cell, tuple(cells), column, header, corner)
    return None


def unit_tag(words: str) -> UnitTag:
    """The unit a header or row label gives its plain numbers."""
    match = _UNIT_TAG.search(words)
    if match is None:
        return NO_TAG
    if match["pct"]:
        return None, 1.0, "percent"
    if match["mult"]:
        return None, 1.0, "multiple"
    if match["pence"]:
        return frozenset({"GBP"}), 0.01, None
    if match["cur"]:
        scale = _SCALE_WORDS.get((match["scale"] or "").lower(), 1.0)
        return _CURRENCY_TAGS.get(match["cur"].lower()), scale, None
    return None, _SCALE_WORDS[match["scale_only"].lower()], None


def with_unit(fig: Figure, tag: UnitTag) -> Figure:
    """A plain number in a table, given the unit its header or row label states."""
    currencies, scale, suffix = tag
    if fig.unit_suffix is not None or fig.currencies is not None or fig.scale != 1.0:
        return fig
    if suffix == "percent":
        return fig._replace(unit_suffix="percent")
    if suffix == "multiple":
        return fig._replace(unit_suffix="multiple")
    if currencies is None and scale == 1.0:
        return fig
    return fig._replace(
        value=fig.value * scale, tolerance=fig.tolerance * scale, scale=scale, currencies=currencies
    )
