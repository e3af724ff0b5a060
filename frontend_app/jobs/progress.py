"""The writing stage: the fallback chain's events turned into the job's events.

The percentage follows the text: a section counts as done when the writer says so,
and until then by its length against the longest it may be (about 4 characters a
token), so the bar moves and the time-left estimate holds while sections are
written side by side. Text sends a progress event at most once a second, when a
whole percent was gained.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from vast_ai.schemas import (
    SECTION_TITLES,
    ReportRequest,
    ReportResponse,
    Section,
    SectionDoneEvent,
    SectionStartedEvent,
    TokenEvent,
)

from ..llm.base import Integration, Notice, Restart, WriterEvent
from .job import JobReporter

# Percent of the whole job at the start and the end of writing; writing takes most of it.
GENERATING_FROM, GENERATING_TO = 20.0, 90.0


class WritingProgress:
    """Follows one job's writing: progress, text, finished sections, notices."""

    def __init__(self, reporter: JobReporter, request: ReportRequest) -> None:
        self._reporter = reporter
        self._sections = list(request.sections)
        self._expected_chars = 4 * request.options.max_tokens_per_section
        self._chars: dict[str, int] = {}
        self._done: set[str] = set()
        self._shown = GENERATING_FROM
        self._last_update = 0.0

    def follow(
        self, writing: Generator[WriterEvent, None, tuple[ReportResponse, Integration]]
    ) -> tuple[ReportResponse, Integration]:
        """Send the job's events for each event of `writing`; what `writing` returns."""
        while True:
            try:
                event = next(writing)
            except StopIteration as finished:
                result: tuple[ReportResponse, Integration] = finished.value
                return result
            if isinstance(event, TokenEvent):
                self._token(event.section, event.text)
            elif isinstance(event, SectionStartedEvent):
                self._section_started(event.section, event.attempt)
            elif isinstance(event, SectionDoneEvent):
                self._section_done(event.section)
            elif isinstance(event, Notice):
                self._notice(event.message)
            elif isinstance(event, Restart):
                self._restart()

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

    def _notice(self, message: str) -> None:
        self._reporter.progress("generating", self._percent(), message)

    def _section_started(self, section_id: str, attempt: int) -> None:
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

    def _token(self, section_id: str, text: str) -> None:
        self._reporter.token(section_id, text)
        self._chars[section_id] = self._chars.get(section_id, 0) + len(text)
        before, now = self._shown, time.monotonic()
        # The clock first: the percent costs more, and a token needs it once a second at most.
        if now - self._last_update >= 1.0 and int(self._percent()) > int(before):
            self._last_update = now
            self._reporter.progress("generating", self._shown, f"Writing: {self._written()}")

    def _section_done(self, section: Section) -> None:
        self._done.add(section.id)
        self._reporter.section(section.model_dump(mode="json"))

    def _restart(self) -> None:
        self._done.clear()
        self._chars.clear()
        self._shown = GENERATING_FROM
        self._reporter.progress(
            "generating", self._percent(), "Starting the text again", reset=True
        )
