"""Where each group of figures came from (Yahoo module, statement, period), and the filings.

Filing links come only from Yahoo's data (https addresses, see
frontend_app.market.normalise_research): the page may make these clickable, and
nothing the model writes.
"""

from __future__ import annotations

from frontend_app.market.company import CompanyData, Statement
from frontend_app.market.peers import PeerSet

from .assumptions import ValuationSettings
from .estimates import period_label
from .figures import fiscal_label, price_window
from .results import Result, Table, TableRow


class SourceNote(Result):
    group: str
    source: str
    period: str


class FilingLink(Result):
    date: str
    type: str
    title: str
    url: str | None


def _statement_period(annual: Statement | None, quarterly: Statement | None) -> str:
    parts = []
    if annual is not None and annual.periods:
        first, last = fiscal_label(min(annual.periods)), fiscal_label(max(annual.periods))
        parts.append(first if first == last else f"{first} to {last}")
    if quarterly is not None and quarterly.periods:
        parts.append(f"quarters to {max(quarterly.periods).isoformat()}")
    return "; ".join(parts)


def source_notes(
    company: CompanyData, peers: PeerSet, settings: ValuationSettings
) -> list[SourceNote]:
    """One note per figure group; a group Yahoo did not send says why."""
    gaps = {gap.part: gap.reason for gap in company.gaps}
    as_of = f"as of {company.as_of.isoformat()} ({company.source_label})"
    research = company.research
    notes = [
        SourceNote(
            group="Quote, key statistics and analysts' targets",
            source="Yahoo Finance quote and quoteSummary (price, summaryDetail, "
            "defaultKeyStatistics, financialData)",
            period=as_of,
        )
    ]
    for kind, name in (
        ("income", "Income statement"),
        ("balance", "Balance sheet"),
        ("cashflow", "Cash-flow statement"),
    ):
        annual, quarterly = company.statement(kind, "annual"), company.statement(kind, "quarterly")  # type: ignore[arg-type]
        period = _statement_period(annual, quarterly)
        notes.append(
            SourceNote(
                group=name,
                source="Yahoo Finance fundamentals time series",
                period=period or f"not available: {gaps.get(f'{kind}_annual', 'none sent')}",
            )
        )
    window = price_window(company)
    if window.start is not None and window.end is not None:
        period = f"{window.start.isoformat()} to {window.end.isoformat()}"
        if not window.current:
            period += " (not current: not used for returns, volatility or averages)"
    else:
        period = f"not available: {gaps.get('prices', 'none sent')}"
    notes.append(
        SourceNote(
            group="Price history",
            source="Yahoo Finance chart, daily closes adjusted for splits and dividends",
            period=period,
        )
    )
    research_groups = (
        (
            "Estimates and revisions",
            "Yahoo Finance earningsTrend",
            "estimates",
            ", ".join(period_label(e) for e in research.estimates),
        ),
        (
            "Earnings surprises",
            "Yahoo Finance earningsHistory",
            "earnings_history",
            ", ".join(s.quarter_end.isoformat() for s in research.earnings_history),
        ),
        (
            "Recommendations",
            "Yahoo Finance recommendationTrend",
            "recommendation_trend",
            f"{len(research.recommendation_trend)} months to {company.as_of.isoformat()}",
        ),
        (
            "Rating changes",
            "Yahoo Finance upgradeDowngradeHistory",
            "rating_changes",
            f"latest {len(research.rating_changes)}",
        ),
        (
            "Insiders and ownership",
            "Yahoo Finance insiderTransactions, netSharePurchaseActivity, majorHoldersBreakdown",
            "holders",
            as_of,
        ),
        ("Earnings calendar", "Yahoo Finance calendarEvents", "calendar", as_of),
        (
            "SEC filings",
            "Yahoo Finance secFilings",
            "sec_filings",
            f"latest {len(research.filings)}",
        ),
    )
    for group, source, part, period in research_groups:
        reason = gaps.get(part)
        notes.append(
            SourceNote(
                group=group,
                source=source,
                period=f"not available: {reason}" if reason else period,
            )
        )
    rates = settings.risk_free_rates.get(company.quote.currency)
    rate_text = f"risk-free rate {rates.describe()}; " if rates else ""
    notes.append(
        SourceNote(
            group="Valuation",
            source="computed by ERT from the figures above; "
            f"{rate_text}equity risk premium {settings.equity_risk_premium.describe()}",
            period=f"as of {company.as_of.isoformat()}",
        )
    )
    peer_dates = ", ".join(f"{p.ticker} {p.source_label}" for p in peers.companies)
    notes.append(SourceNote(group="Peers", source=peers.note, period=peer_dates or "no peers"))
    return notes


def filing_links(company: CompanyData) -> list[FilingLink]:
    return [
        FilingLink(date=f.date.isoformat(), type=f.type, title=f.title, url=f.url)
        for f in company.research.filings
    ]


def sources_table(notes: list[SourceNote]) -> Table:
    return Table(
        key="sources",
        title="Sources",
        label_heading="Figures",
        columns=["Source", "Period"],
        rows=[TableRow(label=n.group, cells=[n.source, n.period]) for n in notes],
    )


def filings_table(links: list[FilingLink]) -> Table:
    return Table(
        key="filings",
        title="Recent SEC filings",
        label_heading="Date",
        columns=["Form", "Title"],
        rows=[TableRow(label=link.date, cells=[link.type, link.title]) for link in links],
        note="Links: the `filings` list (only Yahoo's https addresses)",
        source="Yahoo Finance secFilings",
    )
