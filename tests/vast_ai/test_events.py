"""The event buffer: tokens merged per section, in order, at most one read per window."""

from __future__ import annotations

import asyncio

import pytest

from vast_ai.schemas import SectionDoneEvent, SectionStartedEvent, TokenEvent
from vast_ai.writer.events import EventBuffer

pytestmark = pytest.mark.anyio


async def test_interleaved_sections_merge_into_one_event_each() -> None:
    buffer = EventBuffer(window=0)
    buffer.emit(SectionStartedEvent(section="risks"))
    buffer.emit(SectionStartedEvent(section="valuation"))
    for i in range(3):
        buffer.token("risks", f"r{i} ")
        buffer.token("valuation", f"v{i} ")
    events = await buffer.drain()
    assert [e.type for e in events] == ["section_started", "section_started", "token", "token"]
    assert events[2] == TokenEvent(section="risks", text="r0 r1 r2 ")
    assert events[3] == TokenEvent(section="valuation", text="v0 v1 v2 ")


async def test_other_events_keep_tokens_on_their_side() -> None:
    buffer = EventBuffer(window=0)
    buffer.token("risks", "a ")
    buffer.token("valuation", "b ")
    buffer.emit(SectionDoneEvent.model_validate({"section": {"id": "risks", "title": "Risks"}}))
    buffer.token("valuation", "c ")
    events = await buffer.drain()
    assert [(e.type, getattr(e, "text", None)) for e in events] == [
        ("token", "a "),
        ("token", "b "),
        ("section_done", None),
        ("token", "c "),
    ]


async def test_tokens_go_out_at_once_then_at_most_once_per_window() -> None:
    buffer = EventBuffer(window=0.2)
    loop = asyncio.get_running_loop()
    buffer.emit(SectionStartedEvent(section="risks"))
    assert [e.type for e in await buffer.drain()] == ["section_started"]
    buffer.token("risks", "first ")
    started = loop.time()
    assert await buffer.drain() == [TokenEvent(section="risks", text="first ")]
    assert loop.time() - started < 0.05  # the first token is not held back

    async def trickle() -> None:
        for i in range(5):
            buffer.token("risks", f"t{i} ")
            await asyncio.sleep(0.01)

    task = asyncio.create_task(trickle())
    second = await buffer.drain()
    await task
    assert loop.time() - started >= 0.19
    assert second == [TokenEvent(section="risks", text="t0 t1 t2 t3 t4 ")]
