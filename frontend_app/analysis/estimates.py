"""Estimates, revisions, surprises, ratings, insiders and ownership as facts, tables and charts.

Every figure is Yahoo's, read by frontend_app.market; here it gets its period (the
fiscal year or quarter an estimate is for, "as of" the data for counts) so the prose
can quote it and the grounding check can tell FY2025 from FY2026.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from frontend_app.market.company import CompanyData
from frontend_app.market.research import PeriodEstimate, ResearchData
from vast_ai.schemas import Fact

from .figures import fiscal_label
from .formatting import money, percent
from .results import Result, Table, TableRow, fact

RATING_WINDOW_DAYS = 90
_UNNAMED = {"0q": "current quarter", "+1q": "next quarter", "0y": "current fiscal year"}
_UNNAMED["+1y"] = "next fiscal year"
TREND_LABELS = ["90 days ago", "60 days ago", "30 days ago", "7 days ago", "now"]


def period_label(estimate: PeriodEstimate) -> str:
    """'FY2025', 'quarter to 2025-03', or Yahoo's relative name when the end is unknown."""
    if estimate.end is None:
        return _UNNAMED[estimate.period]
    if estimate.is_year:
        return fiscal_label(estimate.end)
    return f"quarter to {estimate.end.strftime('%Y-%m')}"


def _slug(estimate: PeriodEstimate) -> str:
    if estimate.end is None:
        return _UNNAMED[estimate.period].replace(" ", "_")
    if estimate.is_year:
        return fiscal_label(estimate.end).lower()
    return f"q{estimate.end.strftime('%Y_%m')}"


def _quarter(day: date) -> str:
    return f"quarter to {day.strftime('%Y-%m')}"


class EstimatesView(Result):
    """What the page shows of the Street's view; `facts` are what the prose may quote."""

    facts: list[Fact]
    tables: list[Table]
    charts: dict[str, Any]
    next_earnings: str | None


def _estimate_facts(estimate: PeriodEstimate) -> list[Fact]:
    label, key, currency = period_label(estimate), _slug(estimate), estimate.currency
    candidates: list[tuple[str, str, float | None, Any]] = [
        ("eps_estimate", "Consensus EPS estimate", estimate.eps_avg, "per_share"),
        ("eps_estimate_low", "Lowest EPS estimate", estimate.eps_low, "per_share"),
        ("eps_estimate_high", "Highest EPS estimate", estimate.eps_high, "per_share"),
        ("eps_estimate_growth", "Estimated EPS growth", estimate.eps_growth, "percent"),
        ("eps_estimate_analysts", "Analysts estimating EPS", estimate.eps_analysts, "count"),
        ("revenue_estimate", "Consensus revenue estimate", estimate.revenue_avg, "currency"),
        ("revenue_estimate_growth", "Estimated revenue growth", estimate.revenue_growth, "percent"),
        (
            "revenue_estimate_analysts",
            "Analysts estimating revenue",
            estimate.revenue_analysts,
            "count",
        ),
        (
            "eps_revisions_up_7d",
            "EPS estimates raised in 7 days",
            estimate.revisions_up_7d,
            "count",
        ),
        (
            "eps_revisions_down_7d",
            "EPS estimates cut in 7 days",
            estimate.revisions_down_7d,
            "count",
        ),
        (
            "eps_revisions_up_30d",
            "EPS estimates raised in 30 days",
            estimate.revisions_up_30d,
            "count",
        ),
        (
            "eps_revisions_down_30d",
            "EPS estimates cut in 30 days",
            estimate.revisions_down_30d,
            "count",
        ),
    ]
    for days, before in ((30, estimate.eps_30d_ago), (90, estimate.eps_90d_ago)):
        if estimate.eps_avg is not None and before:
            change = estimate.eps_avg / before - 1
            candidates.append(
                (
                    f"eps_estimate_change_{days}d",
                    f"Change of the EPS estimate in {days} days",
                    change,
                    "percent",
                )
            )
    return [
        fact(
            f"{name}_{key}",
            f"{text} ({label})",
            float(value),
            unit,
            label,
            currency if unit in ("per_share", "currency") else None,
        )
        for name, text, value, unit in candidates
        if value is not None
    ]


def _estimates_table(research: ResearchData) -> Table:
    rows = []
    for e in research.estimates:
        currency = e.currency

        def per_share(value: float | None, currency: str | None = currency) -> str:
            return "n/a" if value is None else money(value, currency, compact=False)

        def amount(value: float | None, currency: str | None = currency) -> str:
            return "n/a" if value is None else money(value, currency)

        def share(value: float | None) -> str:
            return "n/a" if value is None else percent(value)

        rows.append(
            TableRow(
                label=period_label(e),
                cells=[
                    per_share(e.eps_avg),
                    f"{per_share(e.eps_low)} to {per_share(e.eps_high)}",
                    share(e.eps_growth),
                    str(e.eps_analysts or "n/a"),
                    amount(e.revenue_avg),
                    share(e.revenue_growth),
                    str(e.revenue_analysts or "n/a"),
                ],
            )
        )
    return Table(
        key="estimates",
        title="Analysts' estimates",
        label_heading="Period",
        columns=[
            "EPS",
            "EPS range",
            "EPS growth",
            "Analysts",
            "Revenue",
            "Revenue growth",
            "Analysts",
        ],
        rows=rows,
        source="Yahoo Finance earningsTrend",
    )


def _revisions_table(research: ResearchData) -> Table:
    def count(value: int | None) -> str:
        return "n/a" if value is None else str(value)

    rows = []
    for e in research.estimates:
        if e.eps_avg is None:
            continue
        change = [
            "n/a" if not before else percent(e.eps_avg / before - 1)
            for before in (e.eps_30d_ago, e.eps_90d_ago)
        ]
        rows.append(
            TableRow(
                label=period_label(e),
                cells=[
                    count(e.revisions_up_7d),
                    count(e.revisions_down_7d),
                    count(e.revisions_up_30d),
                    count(e.revisions_down_30d),
                    *change,
                ],
            )
        )
    return Table(
        key="revisions",
        title="EPS estimate revisions",
        label_heading="Period",
        columns=[
            "Up (7 days)",
            "Down (7 days)",
            "Up (30 days)",
            "Down (30 days)",
            "Change (30 days)",
            "Change (90 days)",
        ],
        rows=rows,
        source="Yahoo Finance earningsTrend (epsTrend, epsRevisions)",
    )


def _surprises(
    research: ResearchData, currency: str | None
) -> tuple[list[Fact], Table, dict[str, Any]]:
    history = research.earnings_history[-4:]
    facts: list[Fact] = []
    rows = []
    for s in history:
        label, key = _quarter(s.quarter_end), f"q{s.quarter_end.strftime('%Y_%m')}"
        for name, text, value in (
            ("eps_actual", "Reported EPS", s.eps_actual),
            ("eps_consensus", "Consensus EPS before the report", s.eps_estimate),
        ):
            if value is not None:
                facts.append(
                    fact(f"{name}_{key}", f"{text} ({label})", value, "per_share", label, currency)
                )
        if s.surprise is not None:
            facts.append(
                fact(f"eps_surprise_{key}", f"EPS surprise ({label})", s.surprise, "percent", label)
            )

        def per_share(value: float | None) -> str:
            return "n/a" if value is None else money(value, currency, compact=False)

        rows.append(
            TableRow(
                label=label,
                cells=[
                    per_share(s.eps_estimate),
                    per_share(s.eps_actual),
                    "n/a" if s.surprise is None else percent(s.surprise),
                ],
            )
        )
    table = Table(
        key="surprises",
        title="Earnings surprises",
        label_heading="Quarter",
        columns=["Consensus EPS", "Reported EPS", "Surprise"],
        rows=rows,
        source="Yahoo Finance earningsHistory",
    )
    chart = {
        "currency": currency,
        "quarters": [_quarter(s.quarter_end) for s in history],
        "estimate": [s.eps_estimate for s in history],
        "actual": [s.eps_actual for s in history],
        "surprise": [s.surprise for s in history],
    }
    return facts, table, chart


def _revision_chart(research: ResearchData) -> dict[str, Any]:
    series = [
        {
            "label": period_label(e),
            "values": [e.eps_90d_ago, e.eps_60d_ago, e.eps_30d_ago, e.eps_7d_ago, e.eps_avg],
        }
        for e in research.estimates
        if e.eps_avg is not None
    ]
    currency = next((e.currency for e in research.estimates), None)
    return {"currency": currency, "labels": TREND_LABELS, "series": series}


def _recommendations(company: CompanyData) -> tuple[list[Fact], Table, dict[str, Any]]:
    trend = company.research.recommendation_trend
    as_of = f"as of {company.as_of.isoformat()}"
    kinds = (
        ("strong_buy", "Strong buy"),
        ("buy", "Buy"),
        ("hold", "Hold"),
        ("sell", "Sell"),
        ("strong_sell", "Strong sell"),
    )
    facts: list[Fact] = []
    if trend and trend[0].months_ago == 0:
        now = trend[0]
        for name, text in kinds:
            facts.append(
                fact(
                    f"analysts_{name}",
                    f"Analysts rating it {text.lower()}",
                    float(getattr(now, name)),
                    "count",
                    as_of,
                )
            )
    months = list(reversed(trend))
    labels = [_months_ago(m.months_ago) for m in months]
    table = Table(
        key="recommendation_trend",
        title="Analysts' recommendations by month",
        label_heading="Month",
        columns=[text for _, text in kinds],
        rows=[
            TableRow(label=label, cells=[str(getattr(m, name)) for name, _ in kinds])
            for label, m in zip(labels, months, strict=True)
        ],
        source="Yahoo Finance recommendationTrend",
    )
    chart = {"labels": labels, **{name: [getattr(m, name) for m in months] for name, _ in kinds}}
    return facts, table, chart


def _months_ago(months: int) -> str:
    if months == 0:
        return "this month"
    return f"{months} month{'' if months == 1 else 's'} ago"


def _spelled_period(code: str) -> str:
    """Yahoo's "6m" as "6 months"; anything else as given."""
    if code.endswith("m") and code[:-1].isdigit():
        return _months_ago(int(code[:-1])).removesuffix(" ago")
    return code


def _rating_changes(company: CompanyData) -> tuple[list[Fact], Table]:
    changes = company.research.rating_changes
    since = company.as_of - timedelta(days=RATING_WINDOW_DAYS)
    recent = [c for c in changes if since < c.date <= company.as_of]
    period = f"{RATING_WINDOW_DAYS} days to {company.as_of.isoformat()}"
    facts = []
    if changes:
        for action, text in (("up", "upgrades"), ("down", "downgrades")):
            count = sum(c.action == action for c in recent)
            facts.append(
                fact(
                    f"rating_{text}_{RATING_WINDOW_DAYS}d",
                    f"Broker {text}",
                    float(count),
                    "count",
                    period,
                )
            )
    table = Table(
        key="rating_changes",
        title="Recent rating changes",
        label_heading="Date",
        columns=["Firm", "Action", "From", "To"],
        rows=[
            TableRow(
                label=c.date.isoformat(),
                cells=[c.firm, c.action or "n/a", c.from_grade or "-", c.to_grade or "n/a"],
            )
            for c in changes[:10]
        ],
        note=(
            "Action: up = upgrade, down = downgrade, init = initiated, main = maintained, "
            "reit = reiterated"
        ),
        source="Yahoo Finance upgradeDowngradeHistory",
    )
    return facts, table


def _insiders_and_owners(
    company: CompanyData,
) -> tuple[list[Fact], list[Table], dict[str, Any]]:
    """Facts, tables and the ownership chart: {"holders": {label: share}, "insider_trades":
    {"period", "buys", "sales"}} (each part only where Yahoo has it)."""
    research = company.research
    as_of = f"as of {company.as_of.isoformat()}"
    facts: list[Fact] = []
    tables: list[Table] = []
    chart: dict[str, Any] = {}
    activity = research.insider_activity
    if activity is not None:
        period = f"{_spelled_period(activity.period)} to {company.as_of.isoformat()}"
        for name, text, value in (
            (
                "insider_net_shares",
                "Net shares bought by insiders (sold if negative)",
                activity.net_shares,
            ),
            ("insider_buy_transactions", "Insider purchases", activity.buy_count),
            ("insider_sell_transactions", "Insider sales", activity.sell_count),
        ):
            if value is not None:
                facts.append(fact(f"{name}_{activity.period}", text, float(value), "count", period))
        chart["insider_trades"] = {
            "period": f"last {_spelled_period(activity.period)}",
            "buys": activity.buy_count or 0,
            "sales": activity.sell_count or 0,
        }
    owners = research.ownership
    if owners is not None:
        for name, text, value, unit in (
            ("insider_ownership", "Shares held by insiders", owners.insiders, "percent"),
            (
                "institutional_ownership",
                "Shares held by institutions",
                owners.institutions,
                "percent",
            ),
            (
                "institutional_ownership_float",
                "Float held by institutions",
                owners.institutions_of_float,
                "percent",
            ),
            (
                "institutions_count",
                "Institutions holding shares",
                owners.institutions_count,
                "count",
            ),
        ):
            if value is not None:
                facts.append(fact(name, text, float(value), unit, as_of))  # type: ignore[arg-type]
        holders = {"Insiders": owners.insiders, "Institutions": owners.institutions}
        chart["holders"] = {label: share for label, share in holders.items() if share is not None}
        tables.append(
            Table(
                key="ownership",
                title="Ownership",
                label_heading="Holder",
                columns=["Share"],
                rows=[
                    TableRow(label=text, cells=["n/a" if value is None else percent(value)])
                    for text, value in (
                        ("Insiders", owners.insiders),
                        ("Institutions", owners.institutions),
                        ("Institutions (of the float)", owners.institutions_of_float),
                    )
                ],
                note=None
                if owners.institutions_count is None
                else f"{owners.institutions_count:,} institutions",
                source="Yahoo Finance majorHoldersBreakdown",
            )
        )
    if research.insider_trades:
        currency = company.quote.currency
        tables.append(
            Table(
                key="insider_trades",
                title="Insider transactions",
                label_heading="Date",
                columns=["Insider", "Position", "Transaction", "Shares", "Value"],
                rows=[
                    TableRow(
                        label=t.date.isoformat(),
                        cells=[
                            t.insider,
                            t.position or "-",
                            t.text or "-",
                            "n/a" if t.shares is None else f"{t.shares:,.0f}",
                            "n/a" if not t.value else money(t.value, currency),
                        ],
                    )
                    for t in research.insider_trades[:10]
                ],
                note=None
                if activity is None
                else (
                    f"Last {_spelled_period(activity.period)}: {activity.buy_count or 0} buys, "
                    f"{activity.sell_count or 0} sales, net {activity.net_shares or 0:,.0f} shares"
                ),
                source="Yahoo Finance insiderTransactions, netSharePurchaseActivity",
            )
        )
    return facts, tables, chart


def next_earnings(company: CompanyData) -> str | None:
    """The next earnings date (or window) on or after the as-of date, as Yahoo gives it."""
    calendar = company.research.calendar
    if calendar is None:
        return None
    coming = [d for d in calendar.earnings_dates if d >= company.as_of]
    if not coming:
        return None
    first, last = coming[0].isoformat(), coming[-1].isoformat()
    return first if first == last else f"{first} to {last}"


def estimates_view(company: CompanyData) -> EstimatesView:
    research = company.research
    currency = (
        next((e.currency for e in research.estimates), None)
        or company.statistics.financial_currency
    )
    facts = [f for e in research.estimates for f in _estimate_facts(e)]
    tables: list[Table] = []
    charts: dict[str, Any] = {}
    if research.estimates:
        tables += [_estimates_table(research), _revisions_table(research)]
        charts["estimate_revisions"] = _revision_chart(research)
    if research.earnings_history:
        surprise_facts, table, chart = _surprises(research, currency)
        facts += surprise_facts
        tables.append(table)
        charts["eps_surprises"] = chart
    if research.recommendation_trend:
        rec_facts, table, chart = _recommendations(company)
        facts += rec_facts
        tables.append(table)
        charts["recommendations"] = chart
    if research.rating_changes:
        rating_facts, table = _rating_changes(company)
        facts += rating_facts
        tables.append(table)
    owner_facts, owner_tables, owner_chart = _insiders_and_owners(company)
    facts += owner_facts
    tables += owner_tables
    if owner_chart:
        charts["ownership"] = owner_chart
    coming = next_earnings(company)
    if coming is not None:
        facts.append(
            fact(
                "next_earnings_date",
                "Next earnings date",
                None,
                "number",
                f"as of {company.as_of.isoformat()}",
                shown=coming,
            )
        )
    return EstimatesView(facts=facts, tables=tables, charts=charts, next_earnings=coming)
