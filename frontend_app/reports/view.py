"""What the report page and the exports show, computed once from a stored report.

Besides the sections: the analysis stored with the report (analysis.report_data's
`to_dict`: tables, valuation, peers, sources, filings, notes), in the groups the page
shows, the valuation's headline figures, and whether the rating agrees with ERT's
price target. A report stored before the analysis existed shows without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from vast_ai.schemas import SECTION_IDS, ReportGrounding, ReportResponse, Section

from ..analysis.dcf import Dcf
from ..analysis.formatting import money, percent
from ..analysis.metrics import METRIC_DEFINITIONS
from ..analysis.results import NotMeaningful, Table
from ..analysis.valuation import PriceTarget, RatingCheck, Valuation
from ..settings import Settings
from .charts import Format, RenderedChart, report_charts
from .render import MARKS, Mark, grounding_headline, mark_counts, render_markdown_html
from .store import StoredReport

DEMO_BANNER = (
    "A small demo model ({model}) wrote this text: its claims are unreliable, and the "
    "rating is withheld. For real reports, run ERT with Ollama (OLLAMA_HOST) or a GPU tier."
)
# The figures after the prose, in reading order: (id, title, Table keys, chart keys).
# The football field leads the page, beside the valuation's headline; the filings are
# shown apart, with their links.
GROUPS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "valuation-figures",
        "Valuation in figures",
        (
            "price_target",
            "dcf_assumptions",
            "dcf",
            "dcf_sensitivity",
            "multiples",
            "not_meaningful",
        ),
        ("sensitivity", "dcf_cash_flows"),
    ),
    ("peers", "Peers", ("comps",), ("comps",)),
    ("history", "The company's record", (), ("prices", "annual", "margins")),
    (
        "estimates",
        "Estimates, revisions and analysts",
        ("estimates", "revisions", "surprises", "recommendation_trend", "rating_changes"),
        ("estimate_revisions", "eps_surprises", "recommendations"),
    ),
    ("ownership", "Ownership and insiders", ("ownership", "insider_trades"), ("ownership",)),
    ("sources", "Where the figures come from", ("sources",), ()),
)
LEAD_CHART = "football_field"


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    tables: list[Table]
    charts: list[RenderedChart]


@dataclass(frozen=True)
class Legend:
    mark: Mark
    count: int


DISCLAIMER = (
    "This report was written by software from public market data. It is not investment "
    "advice: check every figure and do your own research before making any decision."
)


@dataclass(frozen=True)
class Cost:
    gpu_seconds: float
    gpu_cost: float
    tokens: int
    api_cost: float
    gpu_hourly_cost: float
    api_price_per_million_tokens: float


@dataclass(frozen=True)
class ReportView:
    stored: StoredReport
    report: ReportResponse
    sections: list[Section]
    facts: list[dict[str, Any]]
    grounding_headline: str
    cost: Cost

    @property
    def context(self) -> dict[str, Any]:
        return self.stored.context

    @property
    def price(self) -> str:
        quote = self.context.get("quote") or {}
        price = quote.get("price")
        if price is None:
            return "n/a"
        return f"{price:,.2f} {quote.get('currency') or ''}".strip()

    @property
    def rating(self) -> str:
        rating = self.report.rating
        label = rating.recommendation.replace("_", " ").upper()
        return f"{label} ({rating.conviction} conviction)" if rating.conviction else label

    @property
    def key_metrics(self) -> list[dict[str, Any]]:
        """The fact sheet's metrics (its other facts are in the tables)."""
        return [f for f in self.facts if f.get("key") in METRIC_DEFINITIONS]

    def charts(self, fmt: Format) -> list[RenderedChart]:
        return report_charts(self.stored.id, self.context.get("charts") or {}, fmt)

    def lead_chart(self, fmt: Format) -> RenderedChart | None:
        return next((c for c in self.charts(fmt) if c.key == LEAD_CHART), None)

    def groups(self, fmt: Format | None) -> list[Group]:
        """The tables and charts (drawn as `fmt`; None: no charts) after the prose, by
        group; empty groups left out."""
        charts = {} if fmt is None else {chart.key: chart for chart in self.charts(fmt)}
        groups = []
        for group_id, title, table_keys, chart_keys in GROUPS:
            tables = [self.tables[key] for key in table_keys if key in self.tables]
            drawn = [charts[key] for key in chart_keys if key in charts]
            if tables or drawn:
                groups.append(Group(group_id, title, tables, drawn))
        return groups

    def section_html(self, section: Section) -> str:
        return render_markdown_html(section.markdown, section.grounding)

    @staticmethod
    def notice(section: Section) -> str | None:
        """What a section that is not clean prose says instead (one sentence or two, for the
        page and every export), or None when it is clean prose."""
        if section.status == "ok":
            return None
        what = (
            "failed the figure check"
            if section.status == "failed_check"
            else "could not be written"
        )
        why = f": {section.error.message.rstrip('. ')}" if section.error else ""
        replaced = (
            " The data-only writer's text stands in its place." if section.replacement else ""
        )
        return f"This section {what}{why}.{replaced}"

    def replacement_html(self, section: Section) -> str:
        """The data-only writer's text for a section that failed (no figure marks: its
        figures come from the data)."""
        return (
            render_markdown_html(section.replacement.markdown, None) if section.replacement else ""
        )

    @property
    def withheld_reason(self) -> str:
        """Why the rating was withheld, as "Not rated: ..." ("" for a rating given)."""
        rating = self.report.rating
        if rating.withheld is None:
            return ""
        summary = rating.summary or rating.withheld.replace("_", " ")
        return summary if summary.startswith("Not rated") else f"Not rated: {summary}"

    @property
    def demo_banner(self) -> str | None:
        if not self.report.metadata.demo_model:
            return None
        return DEMO_BANNER.format(model=self.report.model)

    @property
    def legend(self) -> list[Legend]:
        counts = mark_counts(self.report.grounding)
        return [Legend(mark, counts[kind]) for kind, mark in MARKS.items()]

    @property
    def analysis(self) -> dict[str, Any]:
        return self.context.get("analysis") or {}

    @cached_property
    def tables(self) -> dict[str, Table]:
        tables = (Table.model_validate(t) for t in self.analysis.get("tables") or [])
        return {table.key: table for table in tables}

    @cached_property
    def valuation(self) -> Valuation | None:
        stored = self.analysis.get("valuation")
        return None if stored is None else Valuation.model_validate(stored)

    @property
    def rating_check(self) -> RatingCheck | None:
        """Whether the rating agrees with ERT's price target (None without a valuation)."""
        if self.valuation is None:
            return None
        return self.valuation.check_rating(self.report.rating.recommendation)

    @property
    def valuation_lines(self) -> list[tuple[str, str]]:
        """The valuation's headline figures, each a (label, text) line; "not meaningful"
        with the reason where a method does not fit."""
        v = self.valuation
        if v is None:
            return []
        lines: list[tuple[str, str]] = []
        if isinstance(v.dcf, Dcf):
            dcf = v.dcf
            upside = "" if dcf.upside is None else f", {percent(dcf.upside)} from the price"
            lines.append(
                (
                    "DCF value per share",
                    f"{money(dcf.value_per_share, dcf.currency, compact=False)}{upside} "
                    f"({money(dcf.low, dcf.currency, compact=False)} to "
                    f"{money(dcf.high, dcf.currency, compact=False)} in the sensitivity range)",
                )
            )
        else:
            lines.append(("DCF value per share", f"not meaningful: {v.dcf.reason}"))
        reverse = v.reverse_dcf
        lines.append(
            (
                "Reverse DCF",
                f"not meaningful: {reverse.reason}"
                if isinstance(reverse, NotMeaningful)
                else reverse.sentence,
            )
        )
        target = v.target
        if isinstance(target, PriceTarget):
            shown = [
                money(x, target.currency, compact=False)
                for x in (target.bear, target.base, target.bull)
            ]
            upside = (
                "" if target.upside is None else f"; base {percent(target.upside)} from the price"
            )
            weights = ", ".join(f"{m.method} {percent(m.weight)}" for m in target.methods)
            lines.append(("Price target (bear / base / bull)", " / ".join(shown) + upside))
            lines.append(("Weights", weights))
        else:
            lines.append(("Price target", f"not meaningful: {target.reason}"))
        check = self.rating_check
        if check is not None:
            verdict = {"consistent": "consistent", "inconsistent": "NOT consistent"}.get(
                check.status, "not checked"
            )
            lines.append(("Rating vs price target", f"{verdict}: {check.reason}"))
        next_earnings = self.analysis.get("next_earnings")
        if next_earnings:
            lines.append(("Next earnings date", str(next_earnings)))
        return lines

    @property
    def peers(self) -> dict[str, Any]:
        return self.analysis.get("peers") or {}

    @property
    def filings(self) -> list[dict[str, Any]]:
        """The SEC filings from the data; `url` kept only when it is an https address."""
        return [
            {**f, "url": f["url"] if str(f.get("url") or "").startswith("https://") else None}
            for f in self.analysis.get("filings") or []
        ]

    @property
    def notes(self) -> list[str]:
        return list(self.analysis.get("notes") or [])


def usage_cost(report: ReportResponse, settings: Settings) -> Cost:
    """GPU time at the hourly price next to the same tokens at a pay-per-token price."""
    tokens = report.usage.prompt_tokens + report.usage.completion_tokens
    seconds = report.usage.generation_seconds
    return Cost(
        gpu_seconds=seconds,
        gpu_cost=seconds / 3600 * settings.gpu_hourly_cost,
        tokens=tokens,
        api_cost=tokens / 1_000_000 * settings.api_price_per_million_tokens,
        gpu_hourly_cost=settings.gpu_hourly_cost,
        api_price_per_million_tokens=settings.api_price_per_million_tokens,
    )


def build_report_view(stored: StoredReport, settings: Settings) -> ReportView:
    report = ReportResponse.model_validate(stored.report)
    sections = [report.sections[s] for s in SECTION_IDS if s in report.sections]
    grounding: ReportGrounding = report.grounding
    return ReportView(
        stored=stored,
        report=report,
        sections=sections,
        facts=list(stored.inputs.get("fact_sheet") or []),
        grounding_headline=grounding_headline(grounding),
        cost=usage_cost(report, settings),
    )
