"""What a report job does, stage by stage: fetch, compute, write, verify, save.

The stages and their events are DESIGN.md's; the ticker arrives validated (the web
layer checked it once). Every failure ends the job with a `failed` event whose
message a person can act on (never a stack trace).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vast_ai.schemas import ReportRequest

from .. import database
from ..analysis import ValuationSettings, build_report_data
from ..errors import ErtError
from ..llm.base import GenerationCancelled
from ..llm.chain import FallbackChain
from ..market import PeerFinder
from ..reports.render import grounding_headline
from ..reports.store import ReportStore
from .job import JobReporter, JobSpec
from .progress import GENERATING_FROM, WritingProgress

log = logging.getLogger(__name__)


def _check_cancel(reporter: JobReporter) -> None:
    if reporter.cancelled:
        raise GenerationCancelled()


@dataclass
class ReportPipeline:
    """The job runner given to the JobManager: ends every job with completed or failed."""

    store: ReportStore
    peers: PeerFinder
    chain: FallbackChain
    report_url: Callable[[str], str]
    valuation: ValuationSettings

    def run(self, reporter: JobReporter) -> None:
        spec = reporter.job.spec
        try:
            if spec.regenerate_from:
                request, context = self._stored_inputs(reporter, spec.regenerate_from)
            else:
                request, context = self._fresh_inputs(reporter, spec)
            _check_cancel(reporter)
            model = request.model or "the default model"
            reporter.progress("generating", GENERATING_FROM, f"Writing the report with {model}")
            writing = self.chain.write(request, reporter.job.cancel.is_set)
            report, integration = WritingProgress(reporter, request).follow(writing)
            reporter.progress("verifying", 92, grounding_headline(report.grounding))
            _check_cancel(reporter)
            reporter.progress("saving", 96, "Saving the report")
            stored = self.store.save(
                report=report,
                inputs=request,
                context={**context, "integration_label": integration.label},
                integration=integration.name,
            )
            reporter.completed(stored.id, self.report_url(stored.id))
        except ErtError as exc:
            reporter.failed(exc)
        except database.DOWN as exc:
            reporter.failed(database.unavailable(exc))
        except Exception:
            log.exception("report job %s failed", reporter.job.id)
            reporter.failed(
                ErtError(
                    "internal_error",
                    "The report could not be written because of an internal error",
                )
            )

    def _fresh_inputs(
        self, reporter: JobReporter, spec: JobSpec
    ) -> tuple[ReportRequest, dict[str, Any]]:
        ticker = spec.ticker
        reporter.progress("validating", 2, f"Checking the ticker {ticker!r}")
        _check_cancel(reporter)
        reporter.progress("fetching_data", 5, f"Fetching market data for {ticker}")
        fetched = self.peers.fetch(ticker, spec.peers)
        company = fetched.company
        for left_out in fetched.peers.left_out:  # told now; the page lists them too
            reporter.progress(
                "fetching_data", 12, f"Peer {left_out.ticker} left out: {left_out.reason}"
            )
        _check_cancel(reporter)
        reporter.progress("computing_metrics", 15, f"Computing metrics ({company.source_label})")
        data = build_report_data(company, fetched.peers, self.valuation)
        company_data, financial_data, market_data = data.report_inputs()
        request = ReportRequest(
            ticker=ticker,
            company_data=company_data,
            financial_data=financial_data,
            market_data=market_data,
            fact_sheet=data.facts,
            model=spec.model,
        )
        analysis = data.to_dict()
        context = {
            "company_name": company.profile.name or ticker,
            "profile": company.profile.model_dump(mode="json"),
            "quote": company.quote.model_dump(mode="json"),
            "data_source": company.source,
            "source_label": company.source_label,
            "as_of": str(company.as_of),
            "charts": analysis.pop("charts"),
            "analysis": analysis,
        }
        return request, context

    def _stored_inputs(
        self, reporter: JobReporter, report_id: str
    ) -> tuple[ReportRequest, dict[str, Any]]:
        reporter.progress("validating", 2, "Loading the stored inputs of the report")
        stored = self.store.get(report_id)
        if stored is None:
            raise ErtError("unknown_report", f"There is no report {report_id!r} to write again")
        request = ReportRequest.model_validate(stored.inputs)
        # The model that really wrote it (the request may have left the choice to the GPU tier).
        if stored.integration != "data_only":
            request = request.model_copy(update={"model": stored.model})
        return request, stored.context
