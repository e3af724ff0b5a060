"""Apply one stream event of the report writer (remote or in-process) to a sink."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from vast_ai.schemas import (
    DoneEvent,
    ErrorEvent,
    ReportResponse,
    SectionDoneEvent,
    SectionStartedEvent,
    TokenEvent,
)

from .base import GenerationSink, IntegrationError


def apply_event(
    event: BaseModel, sink: GenerationSink, label: str, on_text: Callable[[], None]
) -> ReportResponse | None:
    """Forward `event` to `sink`; the finished report on `done`, IntegrationError on `error`.

    `on_text` is called when report text reached the sink (after that, a retry
    would show text twice).
    """
    if isinstance(event, TokenEvent):
        on_text()
        sink.token(event.section, event.text)
    elif isinstance(event, SectionStartedEvent):
        sink.section_started(event.section, event.attempt)
    elif isinstance(event, SectionDoneEvent):
        on_text()
        sink.section_done(event.section)
    elif isinstance(event, DoneEvent):
        return event.report
    elif isinstance(event, ErrorEvent):
        raise IntegrationError(
            event.code,
            f"{label[0].upper()}{label[1:]} failed: {event.message}",
            retryable=event.retryable,
        )
    return None
