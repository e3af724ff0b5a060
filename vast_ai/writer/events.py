"""Where a report's stream events go while it is written.

`EventSink` drops them (`ReportWriter.write` wants only the report); `EventBuffer` keeps
them for a reader, merging the tokens that arrive between two reads into one TokenEvent
per section, so a fast model never outruns a slow reader and each line on the wire
carries as much text as is ready. With a `window`, its reader waits that long between two
reads that carry tokens, so that four sections streaming at once become a few events per
window rather than one per token (the GPU tier reads so: TOKEN_WINDOW); the first tokens
go out at once.
"""

from __future__ import annotations

import asyncio

from vast_ai.schemas import Event, SectionId, TokenEvent

# Seconds between two reads that carry tokens in the GPU tier: ~25 a second per report,
# smooth to read.
TOKEN_WINDOW = 0.04


class EventSink:
    """Drops every event."""

    def emit(self, event: Event) -> None:
        return None

    def token(self, section: SectionId, text: str) -> None:
        return None


class _Tokens:
    __slots__ = ("parts", "section")

    def __init__(self, section: SectionId, text: str) -> None:
        self.section = section
        self.parts = [text]


class EventBuffer(EventSink):
    """Events waiting for the reader. Tokens merge per section until the next other event,
    so every token still comes after its section_started and before its section_done."""

    def __init__(self, window: float = 0.0) -> None:
        self._pending: list[Event | _Tokens] = []
        self._open: dict[SectionId, _Tokens] = {}  # runs still taking tokens
        self._has_tokens = False
        self._ready = asyncio.Event()
        self._window = window
        self._last_tokens = float("-inf")  # when a read last carried tokens

    def emit(self, event: Event) -> None:
        self._pending.append(event)
        self._open.clear()
        self._ready.set()

    def token(self, section: SectionId, text: str) -> None:
        run = self._open.get(section)
        if run is None:
            run = self._open[section] = _Tokens(section, text)
            self._pending.append(run)
        else:
            run.parts.append(text)
        self._has_tokens = True
        self._ready.set()

    async def drain(self) -> list[Event]:
        """What is pending, once there is something; tokens at most once per window."""
        await self._ready.wait()
        loop = asyncio.get_running_loop()
        if self._has_tokens:
            wait = self._last_tokens + self._window - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_tokens = loop.time()
        self._ready.clear()
        batch, self._pending = self._pending, []
        self._open.clear()
        self._has_tokens = False
        return [
            TokenEvent(section=item.section, text="".join(item.parts))
            if isinstance(item, _Tokens)
            else item
            for item in batch
        ]
