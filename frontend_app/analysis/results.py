"""Shapes every analysis result takes, so a template, a chart and an export render them as is.

- `Assumption`: one input of a computation, with its value, display string, period
  and source ("income statement FY2024: tax / pre-tax income"); it is also a fact.
- `NotMeaningful`: a method that does not fit the company, and why, instead of a number.
- `Table`: a title, column headings and rows of display strings (the figures behind
  them are facts); `note` and `source` say what the table rests on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from vast_ai.schemas import Fact, FactUnit

from .formatting import display


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumption(Result):
    key: str
    label: str
    value: float
    unit: FactUnit
    period: str
    source: str
    currency: str | None = None

    @property
    def display(self) -> str:
        return display(self.value, self.unit, self.currency)

    def fact(self) -> Fact:
        return fact(self.key, self.label, self.value, self.unit, self.period, self.currency)


class NotMeaningful(Result):
    """`method` does not fit this company; `reason` says why, in words for the reader."""

    method: str
    reason: str


class TableRow(Result):
    label: str
    cells: list[str]
    highlight: bool = False  # the company's own row among its peers


class Table(Result):
    key: str
    title: str
    columns: list[str]  # headings of the cells, after the row label's heading
    label_heading: str = ""
    rows: list[TableRow]
    note: str | None = None
    source: str | None = None


def fact(
    key: str,
    label: str,
    value: float | None,
    unit: FactUnit,
    period: str,
    currency: str | None = None,
    *,
    subject: str | None = None,
    shown: str | None = None,
) -> Fact:
    """A fact with its display string made the one way (`shown` for word-valued ones)."""
    if shown is None:
        shown = "n/a" if value is None else display(value, unit, currency)
    return Fact(
        key=key,
        label=label,
        value=value,
        display=shown,
        unit=unit,
        currency=currency,
        period=period,
        subject=subject,
    )
