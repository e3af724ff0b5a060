"""What the report page and the exports show, computed once from a stored report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vast_ai.schemas import SECTION_IDS, ReportGrounding, ReportResponse, Section

from ..settings import Settings
from .render import grounding_headline, render_markdown_html
from .store import StoredReport

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
    def has_charts(self) -> bool:
        charts = self.context.get("charts") or {}
        series = (("prices", "dates"), ("annual", "periods"), ("margins", "periods"))
        return any((charts.get(name) or {}).get(axis) for name, axis in series)

    def section_html(self, section: Section) -> str:
        return render_markdown_html(section.markdown, section.grounding)

    def replacement_html(self, section: Section) -> str:
        """The data-only text shown in place of a section that is not the model's checked
        prose (its figures come from the data, so there is nothing to mark)."""
        return (
            render_markdown_html(section.replacement.markdown, None) if section.replacement else ""
        )

    @staticmethod
    def notice(section: Section) -> str:
        """Why a section is not the model's checked prose, as one sentence for every view."""
        if section.status == "failed_check":
            lead = "The model's text failed the figure check and is not shown as the report's text"
        else:
            lead = "This section could not be written"
        why = section.error.message.rstrip(". ") if section.error else ""
        return f"{lead}: {why}." if why else f"{lead}."


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
