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


def coalesce_tokens(events: list[BaseModel]) -> list[BaseModel]:
    """Merge runs of token events for one section into one event (same text, fewer sends)."""
    merged: list[BaseModel] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            isinstance(event, TokenEvent)
            and isinstance(last, TokenEvent)
            and last.section == event.section
        ):
            merged[-1] = TokenEvent(section=event.section, text=last.text + event.text)
        else:
            merged.append(event)
    return merged


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
