"""What every integration implements, what it yields as it writes, and how it fails.

An integration's `write` is a generator: it yields the writer's events as they come
(a section starts, text, a section is done) and notices for the person waiting (a
retry, a fallback), and returns the finished report. The caller drives it, so the
text flows one way: from the model, through the chain, to the job. `cancelled` is
asked while waiting; a consumer that stops iterating closes the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from vast_ai.schemas import (
    DoneEvent,
    ErrorEvent,
    ReportRequest,
    ReportResponse,
    SectionDoneEvent,
    SectionStartedEvent,
    TokenEvent,
)

from ..errors import ErtError


@dataclass(frozen=True)
class Notice:
    """A message for the person waiting (a retry, a fallback)."""

    message: str


@dataclass(frozen=True)
class Restart:
    """Forget the text streamed so far: another integration writes it again."""


WriterEvent = SectionStartedEvent | TokenEvent | SectionDoneEvent | Notice | Restart
Writing = Generator[WriterEvent, None, ReportResponse]
Cancelled = Callable[[], bool]


class IntegrationError(ErtError):
    """An integration could not write the report; the chain tries the next one."""


class GenerationCancelled(ErtError):
    """The person cancelled the job while the text was being written."""

    def __init__(self) -> None:
        super().__init__("cancelled", "Cancelled")


class Integration(Protocol):
    name: str
    label: str

    def write(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        """Write the report, yielding it as it is written; raise IntegrationError on failure."""
        ...


def writer_events(
    events: Iterable[BaseModel], label: str
) -> Generator[WriterEvent, None, ReportResponse | None]:
    """The report writer's stream (remote or in-process) as an integration yields it:
    the report on `done` (None if the stream ends first), IntegrationError on `error`."""
    for event in events:
        if isinstance(event, SectionStartedEvent | TokenEvent | SectionDoneEvent):
            yield event
        elif isinstance(event, DoneEvent):
            return event.report
        elif isinstance(event, ErrorEvent):
            raise IntegrationError(
                event.code,
                f"{label[0].upper()}{label[1:]} failed: {event.message}",
                retryable=event.retryable,
            )
    return None
