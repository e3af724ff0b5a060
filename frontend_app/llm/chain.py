"""The fallback chain of DESIGN.md: each integration in turn until one writes the report."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence

from vast_ai.schemas import ReportRequest, ReportResponse

from .base import Cancelled, Integration, IntegrationError, Notice, Restart, WriterEvent

log = logging.getLogger(__name__)


class FallbackChain:
    def __init__(self, integrations: Sequence[Integration]) -> None:
        if not integrations:
            raise ValueError("the chain needs at least one integration")
        self.integrations = list(integrations)

    def write(
        self, request: ReportRequest, cancelled: Cancelled
    ) -> Generator[WriterEvent, None, tuple[ReportResponse, Integration]]:
        """Yields the report as it is written, and each failure as a Notice (then a Restart);
        returns the report and the integration that wrote it.

        A report in which every section failed counts as a failure of its integration.
        """
        last = len(self.integrations) - 1
        for index, integration in enumerate(self.integrations):
            try:
                report = yield from integration.write(request, cancelled)
                return _with_text(report, integration), integration
            except IntegrationError as exc:
                log.warning("integration %s failed: %s", integration.name, exc.code)
                if index == last:
                    raise
                following = self.integrations[index + 1]
                yield Notice(f"{exc.message}. Falling back to {following.label}.")
                yield Restart()
        raise AssertionError("unreachable")


def _with_text(report: ReportResponse, integration: Integration) -> ReportResponse:
    """The report, unless not one section was written: that is a failure to fall back from.
    A section that was written but failed its figure check counts as written: the reader sees
    the model's attempt marked as failed, which says more than a silent data-only report."""
    if any(section.status != "failed" for section in report.sections.values()):
        return report
    reasons = {s.error.message for s in report.sections.values() if s.error is not None}
    why = f": {sorted(reasons)[0]}" if reasons else ""
    raise IntegrationError("all_sections_failed", f"{integration.label} wrote no section{why}")
