"""What a report job does, stage by stage: validate, fetch, compute, write, verify, save.

The stages and their events are DESIGN.md's; every failure ends the job with a
`failed` event whose message a person can act on (never a stack trace).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from vast_ai.schemas import SECTION_TITLES, ReportRequest, Section

from .analysis import build_fact_sheet, build_report_inputs, chart_series, compute_metrics
from .jobs import JobReporter
from .llm.base import GenerationCancelled, IntegrationError
from .llm.chain import FallbackChain
from .market import MarketDataError, MarketDataService, validate_ticker
from .report_render import grounding_headline
from .settings import Settings
from .store import ReportStore

log = logging.getLogger(__name__)

# Percent of the whole job at the start of each stage; writing takes most of it.
GENERATING_FROM, GENERATING_TO = 20.0, 90.0


@dataclass
class ReportServices:
    settings: Settings
    store: ReportStore
    market: MarketDataService
    chain: FallbackChain


class _JobSink:
    """The chain's sink: turns the writer's stream into the job's progress and token events.

    The percentage follows the text: a section counts as done when the writer says so,
    and until then by its length against the longest it may be (about 4 characters a
    token), so the bar moves and the time-left estimate holds while sections are
    written side by side. Text sends a progress event at most once a second, when a
    whole percent was gained.
    """

    def __init__(self, reporter: JobReporter, request: ReportRequest) -> None:
        self._reporter = reporter
        self._sections = list(request.sections)
        self._expected_chars = 4 * request.options.max_tokens_per_section
        self._chars: dict[str, int] = {}
        self._done: set[str] = set()
        self._shown = GENERATING_FROM
        self._last_update = 0.0

    @property
    def cancelled(self) -> bool:
        return self._reporter.cancelled

    def _percent(self) -> float:
        """Never lower than the last one shown, except after a restart."""
        parts = [
            1.0 if s in self._done else min(0.9, self._chars.get(s, 0) / self._expected_chars)
            for s in self._sections
        ]
        share = sum(parts) / max(1, len(parts))
        self._shown = max(self._shown, GENERATING_FROM + (GENERATING_TO - GENERATING_FROM) * share)
        return self._shown

    def _written(self) -> str:
        return f"{len(self._done)} of {len(self._sections)} sections written"

    def notice(self, message: str) -> None:
        self._reporter.progress("generating", self._percent(), message)

    def section_started(self, section_id: str, attempt: int) -> None:
        title = SECTION_TITLES.get(section_id, section_id)
        again = " again, to fix unverified figures" if attempt > 1 else ""
        self._chars[section_id] = 0
        self._reporter.progress(
            "generating",
            self._percent(),
            f"Writing {title}{again}",
            section=section_id,
            attempt=attempt,
        )

    def token(self, section_id: str, text: str) -> None:
        self._reporter.token(section_id, text)
        self._chars[section_id] = self._chars.get(section_id, 0) + len(text)
        before, now = self._shown, time.monotonic()
        if int(self._percent()) > int(before) and now - self._last_update >= 1.0:
            self._last_update = now
            self._reporter.progress("generating", self._shown, f"Writing: {self._written()}")

    def section_done(self, section: Section) -> None:
        self._done.add(section.id)
        self._reporter.section(section.model_dump(mode="json"))

    def restart(self) -> None:
        self._done.clear()
        self._chars.clear()
        self._shown = GENERATING_FROM
        self._reporter.progress(
            "generating", self._percent(), "Starting the text again", reset=True
        )


def _check_cancel(reporter: JobReporter) -> None:
    if reporter.cancelled:
        raise GenerationCancelled()


def _fresh_inputs(
    reporter: JobReporter, services: ReportServices
) -> tuple[ReportRequest, dict[str, Any]]:
    spec = reporter.job.spec
    reporter.progress("validating", 2, f"Checking the ticker {spec.ticker!r}")
    ticker = validate_ticker(spec.ticker)
    _check_cancel(reporter)
    reporter.progress("fetching_data", 5, f"Fetching market data for {ticker}")
    company = services.market.get_company(ticker)
    _check_cancel(reporter)
    reporter.progress("computing_metrics", 15, f"Computing metrics ({company.source_label})")
    metrics = compute_metrics(company)
    facts = build_fact_sheet(company, metrics)
    company_data, financial_data, market_data = build_report_inputs(company, metrics)
    request = ReportRequest(
        ticker=ticker,
        company_data=company_data,
        financial_data=financial_data,
        market_data=market_data,
        fact_sheet=facts,
        model=spec.model,
    )
    company_dict = company.to_dict()
    profile = company_dict.get("profile") or {}
    quote = company_dict.get("quote") or {}
    context = {
        "company_name": profile.get("name") or ticker,
        "profile": profile,
        "quote": quote,
        "data_source": company.source,
        "source_label": company.source_label,
        "as_of": str(company.as_of),
        "charts": chart_series(company),
    }
    return request, context


def _stored_inputs(
    reporter: JobReporter, services: ReportServices, report_id: str
) -> tuple[ReportRequest, dict[str, Any]]:
    reporter.progress("validating", 2, "Loading the stored inputs of the report")
    stored = services.store.get(report_id)
    if stored is None:
        raise IntegrationError("unknown_report", f"There is no report {report_id!r} to write again")
    request = ReportRequest.model_validate(stored.inputs)
    # The model that really wrote it (the request may have left the choice to the GPU tier).
    if stored.integration != "data_only":
        request = request.model_copy(update={"model": stored.model})
    return request, stored.context


def run_report_job(reporter: JobReporter, services: ReportServices) -> None:
    """The job runner given to the JobManager: ends every job with completed or failed."""
    spec = reporter.job.spec
    try:
        if spec.regenerate_from:
            request, context = _stored_inputs(reporter, services, spec.regenerate_from)
        else:
            request, context = _fresh_inputs(reporter, services)
        _check_cancel(reporter)
        sink = _JobSink(reporter, request)
        model = request.model or "the default model"
        reporter.progress("generating", GENERATING_FROM, f"Writing the report with {model}")
        report, integration = services.chain.generate(request, sink)
        reporter.progress("verifying", 92, grounding_headline(report.grounding))
        _check_cancel(reporter)
        reporter.progress("saving", 96, "Saving the report")
        stored = services.store.save(
            report=report.model_dump(mode="json"),
            inputs=request.model_dump(mode="json"),
            context={**context, "integration_label": integration.label},
            integration=integration.name,
        )
        reporter.completed(stored.id)
    except MarketDataError as exc:
        extra = {"suggestions": list(getattr(exc, "suggestions", None) or [])}
        reporter.failed(exc.code, exc.message, **extra)
    except GenerationCancelled:
        reporter.failed("cancelled", "Cancelled")
    except IntegrationError as exc:
        reporter.failed(exc.code, exc.message)
    except Exception:
        log.exception("report job %s failed", reporter.job.id)
        reporter.failed(
            "internal_error", "The report could not be written because of an internal error"
        )
