"""The comparables table: the company's multiples, margins, growth and returns beside its peers'.

Every figure is the same metric ERT computes for the company (frontend_app.analysis.
metrics), computed the same way for each peer, so a peer's P/E is as checked as the
company's. The peer median leaves the company out; the rank counts it in (1 = the
highest value: the most expensive multiple, the widest margin).
"""

from __future__ import annotations

import re
import statistics
from typing import Any

from pydantic import Field

from frontend_app.market.company import CompanyData
from frontend_app.market.peers import LeftOut
from vast_ai.schemas import Fact

from .formatting import display
from .metrics import METRIC_DEFINITIONS, Metrics
from .results import Result, Table, TableRow, fact

COMPS_METRICS: tuple[str, ...] = (
    "pe_trailing",
    "ev_to_ebitda",
    "price_to_sales",
    "gross_margin",
    "operating_margin",
    "net_margin",
    "revenue_growth_yoy",
    "roe",
    "roic",
)
SHORT_LABELS = {
    "pe_trailing": "P/E",
    "ev_to_ebitda": "EV/EBITDA",
    "price_to_sales": "P/S",
    "gross_margin": "Gross margin",
    "operating_margin": "Operating margin",
    "net_margin": "Net margin",
    "revenue_growth_yoy": "Revenue growth",
    "roe": "ROE",
    "roic": "ROIC",
}
PEER_MEDIAN_PERIOD = "latest reported (peers)"


def slug(ticker: str) -> str:
    """A ticker as a fact-key part: "OCDO.L" -> "ocdo_l"."""
    return re.sub(r"[^a-z0-9]+", "_", ticker.lower()).strip("_")


class CompsEntry(Result):
    """One company's row: each metric's value, display, period, or why it is absent."""

    ticker: str
    name: str
    source_label: str
    values: dict[str, float | None]
    displays: dict[str, str]
    periods: dict[str, str | None]
    reasons: dict[str, str | None]


def entry(company: CompanyData, metrics: Metrics) -> CompsEntry:
    chosen = [metrics[key] for key in COMPS_METRICS]
    return CompsEntry(
        ticker=company.ticker,
        name=company.profile.name,
        source_label=company.source_label,
        values={m.key: m.value for m in chosen},
        displays={m.key: m.display for m in chosen},
        periods={m.key: m.period for m in chosen},
        reasons={m.key: m.reason for m in chosen},
    )


class Comps(Result):
    company: CompsEntry
    peers: list[CompsEntry]
    median: dict[str, float | None]
    ranks: dict[str, int | None]
    ranked: dict[str, int]  # how many companies had a value, the company included
    note: str
    left_out: list[LeftOut] = Field(default_factory=list)

    def peer_values(self, key: str) -> list[float]:
        return [v for p in self.peers if (v := p.values[key]) is not None]

    def table(self) -> Table:
        def row(item: CompsEntry, highlight: bool = False) -> TableRow:
            return TableRow(
                label=f"{item.ticker} ({item.name})",
                cells=[item.displays[key] for key in COMPS_METRICS],
                highlight=highlight,
            )

        median_cells = [_display(key, self.median[key]) for key in COMPS_METRICS]
        rank_cells = [
            "n/a" if self.ranks[key] is None else f"{self.ranks[key]} of {self.ranked[key]}"
            for key in COMPS_METRICS
        ]
        left = "; ".join(f"{item.ticker}: {item.reason}" for item in self.left_out)
        return Table(
            key="comps",
            title="Comparable companies",
            label_heading="Company",
            columns=[SHORT_LABELS[key] for key in COMPS_METRICS],
            rows=[
                row(self.company, highlight=True),
                *[row(peer) for peer in self.peers],
                TableRow(label="Peer median", cells=median_cells),
                TableRow(label=f"Rank of {self.company.ticker} (1 = highest)", cells=rank_cells),
            ],
            note=self.note + (f". Left out: {left}" if left else ""),
            source="metrics computed by ERT for each company from its Yahoo Finance data",
        )

    def chart(self) -> dict[str, Any]:
        """Bars per metric: the company first, then its peers, with the peer median."""
        entries = [self.company, *self.peers]
        return {
            "tickers": [e.ticker for e in entries],
            "metrics": {
                key: {
                    "label": SHORT_LABELS[key],
                    "unit": METRIC_DEFINITIONS[key][2],
                    "values": [e.values[key] for e in entries],
                    "median": self.median[key],
                }
                for key in COMPS_METRICS
            },
        }

    def facts(self) -> list[Fact]:
        facts = []
        for peer in self.peers:
            for key in COMPS_METRICS:
                value, period = peer.values[key], peer.periods[key]
                if value is None:
                    continue
                label, _, unit = METRIC_DEFINITIONS[key]
                facts.append(
                    fact(
                        f"peer_{slug(peer.ticker)}_{key}",
                        f"{peer.ticker} {label}",
                        value,
                        unit,
                        period or PEER_MEDIAN_PERIOD,
                        subject=peer.ticker,
                    )
                )
        for key in COMPS_METRICS:
            label, _, unit = METRIC_DEFINITIONS[key]
            median, rank = self.median[key], self.ranks[key]
            if median is not None:
                name = f"Peer median {label}"
                facts.append(fact(f"peer_median_{key}", name, median, unit, PEER_MEDIAN_PERIOD))
            if rank is not None:
                facts.append(
                    fact(
                        f"peer_rank_{key}",
                        f"{self.company.ticker}'s rank by {label} among {self.ranked[key]} "
                        "companies (1 = highest)",
                        float(rank),
                        "count",
                        PEER_MEDIAN_PERIOD,
                    )
                )
        return facts


def _display(key: str, value: float | None) -> str:
    _, _, unit = METRIC_DEFINITIONS[key]
    return "n/a" if value is None else display(value, unit)


def build_comps(
    company: CompsEntry, peers: list[CompsEntry], note: str, left_out: list[LeftOut]
) -> Comps:
    median: dict[str, float | None] = {}
    ranks: dict[str, int | None] = {}
    ranked: dict[str, int] = {}
    for key in COMPS_METRICS:
        values = [v for p in peers if (v := p.values[key]) is not None]
        median[key] = statistics.median(values) if values else None
        own = company.values[key]
        everyone = values + ([] if own is None else [own])
        ranked[key] = len(everyone)
        ranks[key] = None if own is None or not values else 1 + sum(v > own for v in values)
    return Comps(
        company=company,
        peers=peers,
        median=median,
        ranks=ranks,
        ranked=ranked,
        note=note,
        left_out=left_out,
    )
