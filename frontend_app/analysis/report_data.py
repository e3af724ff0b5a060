"""Everything the code computes for one report, from the company and its peers: one call.

data = build_report_data(company, peers)        # peers: a PeerSet (or CompanyData list)
data.facts                                      # list[Fact]: every quotable figure
data.tables                                     # list[Table]: in reading order
data.charts                                     # dict: chart series, JSON-safe
data.valuation.target / .dcf / .football_field  # typed results or NotMeaningful
data.check_rating("buy")                        # RatingCheck against the price target
data.to_dict()                                  # JSON-safe, to store with the report
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from frontend_app.market.company import CompanyData
from frontend_app.market.peers import LeftOut, PeerSet, date_mismatch
from vast_ai.schemas import Fact

from .assumptions import DEFAULT_SETTINGS, ValuationSettings
from .charts import chart_series
from .comps import Comps, build_comps, entry
from .estimates import EstimatesView, estimates_view
from .fact_sheet import build_fact_sheet, build_report_inputs
from .metrics import Metrics, compute_metrics
from .results import NotMeaningful, Table
from .sources import (
    FilingLink,
    SourceNote,
    filing_links,
    filings_table,
    source_notes,
    sources_table,
)
from .valuation import RatingCheck, Valuation, value_company


@dataclass(frozen=True)
class ReportData:
    company: CompanyData
    metrics: Metrics
    peers: PeerSet
    comps: Comps
    valuation: Valuation
    estimates: EstimatesView
    sources: list[SourceNote]
    filings: list[FilingLink]
    facts: list[Fact]

    def check_rating(self, recommendation: str) -> RatingCheck:
        """Whether a rating agrees with ERT's price target (see valuation.check_rating)."""
        return self.valuation.check_rating(recommendation)

    @property
    def tables(self) -> list[Table]:
        tables = [self.comps.table(), *self.valuation.tables(), *self.estimates.tables]
        tables.append(sources_table(self.sources))
        if self.filings:
            tables.append(filings_table(self.filings))
        return tables

    @property
    def charts(self) -> dict[str, Any]:
        return {
            **chart_series(self.company),
            **self.valuation.charts(),
            **self.estimates.charts,
            "comps": self.comps.chart(),
        }

    @property
    def notes(self) -> list[str]:
        """What could not be computed or had to be left out, in sentences."""
        notes = [f"{item.method}: {item.reason}" for item in self.valuation.not_meaningful]
        notes += self.valuation.warnings
        notes += [f"Peer {item.ticker} left out: {item.reason}" for item in self.peers.left_out]
        if not self.peers.companies:
            notes.append(self.peers.note)
        return notes

    def report_inputs(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(company_data, financial_data, market_data) for a ReportRequest, with the
        valuation, peers and estimates summarised (their figures are in `facts`)."""
        company_data, financial_data, market_data = build_report_inputs(self.company, self.metrics)
        target = self.valuation.target
        reverse = self.valuation.reverse_dcf
        financial_data["valuation"] = {
            "price_target": target.reason
            if isinstance(target, NotMeaningful)
            else {"bear": target.bear, "base": target.base, "bull": target.bull},
            "reverse_dcf": reverse.reason
            if isinstance(reverse, NotMeaningful)
            else reverse.sentence,
            "not_meaningful": [item.model_dump() for item in self.valuation.not_meaningful],
            "warnings": self.valuation.warnings,
        }
        market_data["peers"] = {
            "selection": self.peers.selection,
            "note": self.peers.note,
            "tickers": self.peers.tickers,
            "left_out": [item.model_dump() for item in self.peers.left_out],
        }
        market_data["next_earnings_date"] = self.estimates.next_earnings
        return company_data, financial_data, market_data

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: what a stored report needs to show all of it again."""
        return {
            "facts": [f.model_dump(mode="json") for f in self.facts],
            "tables": [t.model_dump(mode="json") for t in self.tables],
            "charts": self.charts,
            "valuation": self.valuation.model_dump(mode="json"),
            "comps": self.comps.model_dump(mode="json"),
            "peers": {
                "selection": self.peers.selection,
                "note": self.peers.note,
                "tickers": self.peers.tickers,
                "left_out": [item.model_dump() for item in self.peers.left_out],
            },
            "sources": [s.model_dump(mode="json") for s in self.sources],
            "filings": [f.model_dump(mode="json") for f in self.filings],
            "next_earnings": self.estimates.next_earnings,
            "notes": self.notes,
        }


def _peer_set(company: CompanyData, peers: PeerSet | Sequence[CompanyData] | None) -> PeerSet:
    """A PeerSet of the peers whose data may stand beside the company's (same source, date)."""
    if not isinstance(peers, PeerSet):
        given = list(peers or [])
        note = "Peers given for this report" if given else "No peers"
        peers = PeerSet(selection="named" if given else "none", note=note, companies=given)
    kept, left_out = [], list(peers.left_out)
    for peer in peers.companies:
        same = peer.ticker == company.ticker
        reason = "it is the company itself" if same else date_mismatch(company, peer)
        if reason is None:
            kept.append(peer)
        else:
            left_out.append(LeftOut(ticker=peer.ticker, reason=reason))
    return peers.model_copy(update={"companies": kept, "left_out": left_out})


def build_report_data(
    company: CompanyData,
    peers: PeerSet | Sequence[CompanyData] | None = None,
    settings: ValuationSettings = DEFAULT_SETTINGS,
) -> ReportData:
    """Metrics, comps, valuation, estimates, sources and the fact sheet of one report."""
    peer_set = _peer_set(company, peers)
    metrics = compute_metrics(company)
    peer_entries = [entry(peer, compute_metrics(peer)) for peer in peer_set.companies]
    comps = build_comps(entry(company, metrics), peer_entries, peer_set.note, peer_set.left_out)
    valuation = value_company(company, comps, settings)
    estimates = estimates_view(company)
    facts = [
        *build_fact_sheet(company, metrics),
        *estimates.facts,
        *valuation.facts(),
        *comps.facts(),
    ]
    return ReportData(
        company=company,
        metrics=metrics,
        peers=peer_set,
        comps=comps,
        valuation=valuation,
        estimates=estimates,
        sources=source_notes(company, peer_set, settings),
        filings=filing_links(company),
        facts=facts,
    )
