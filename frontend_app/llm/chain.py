"""The fallback chain of DESIGN.md: each integration in turn until one writes the report."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vast_ai.schemas import ReportRequest, ReportResponse

from .base import GenerationSink, Integration, IntegrationError

log = logging.getLogger(__name__)


class FallbackChain:
    def __init__(self, integrations: Sequence[Integration]) -> None:
        if not integrations:
            raise ValueError("the chain needs at least one integration")
        self.integrations = list(integrations)

    def generate(
        self, request: ReportRequest, sink: GenerationSink
    ) -> tuple[ReportResponse, Integration]:
        """The report and the integration that wrote it; each failure is announced to `sink`."""
        last = len(self.integrations) - 1
        for index, integration in enumerate(self.integrations):
            try:
                return integration.generate(request, sink), integration
            except IntegrationError as exc:
                log.warning("integration %s failed: %s", integration.name, exc.code)
                if index == last:
                    raise
                following = self.integrations[index + 1]
                sink.notice(f"{exc.message}. Falling back to {following.label}.")
                sink.restart()
        raise AssertionError("unreachable")
