"""What every integration implements, what it reports to, and how it fails."""

from __future__ import annotations

from typing import Protocol

from vast_ai.schemas import ReportRequest, ReportResponse, Section

from ..errors import ErtError


class GenerationSink(Protocol):
    """Where an integration sends the report as it is written (the job, in practice)."""

    @property
    def cancelled(self) -> bool: ...

    def notice(self, message: str) -> None:
        """A message for the person waiting (a retry, a fallback)."""

    def section_started(self, section_id: str, attempt: int) -> None:
        """A section begins; attempt > 1 means it is written again (grounding)."""

    def token(self, section_id: str, text: str) -> None: ...

    def section_done(self, section: Section) -> None: ...

    def restart(self) -> None:
        """Forget the text streamed so far: another integration writes it again."""


class IntegrationError(ErtError):
    """An integration could not write the report; the chain tries the next one."""


class GenerationCancelled(ErtError):
    """The person cancelled the job while the text was being written."""

    def __init__(self) -> None:
        super().__init__("cancelled", "Cancelled")


class Integration(Protocol):
    name: str
    label: str

    def generate(self, request: ReportRequest, sink: GenerationSink) -> ReportResponse:
        """Write the report, streaming it to `sink`; raise IntegrationError on failure."""
        ...
