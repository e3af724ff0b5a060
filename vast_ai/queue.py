"""Admission of reports: `limit` generate at once, `max_waiting` more wait, the next is refused.

    admission = queue.admit()          # raises QueueFull at once when the queue is full
    async with admission: ...          # waits for a slot, holds it, frees it (also on cancel)

`admit` reserves a place synchronously, so a streaming endpoint can answer 429 before
it sends its headers and take the slot later, inside the stream.
"""

from __future__ import annotations

import asyncio
import math
import time
from types import TracebackType

DEFAULT_REPORT_SECONDS = 30.0


class QueueFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("The server is busy: every slot and queue place is taken")
        self.retry_after = retry_after


class Admission:
    """A place in the queue; entering waits for a slot. Leaving (or `release`) frees it once."""

    def __init__(self, queue: AdmissionQueue) -> None:
        self._queue = queue
        self._state = "waiting"  # → "active" → "done"
        self._since = time.monotonic()

    async def __aenter__(self) -> Admission:
        try:
            await self._queue._semaphore.acquire()
        except BaseException:
            self.release()
            raise
        self._queue.waiting -= 1
        self._queue.active += 1
        self._state = "active"
        self._since = time.monotonic()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        if self._state == "waiting":
            self._queue.waiting -= 1
        elif self._state == "active":
            self._queue.active -= 1
            self._queue._semaphore.release()
            self._queue._record(time.monotonic() - self._since)
        self._state = "done"


class AdmissionQueue:
    def __init__(self, limit: int, max_waiting: int) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.active = 0
        self.waiting = 0
        self._semaphore = asyncio.Semaphore(limit)
        self._mean_seconds = DEFAULT_REPORT_SECONDS

    def admit(self) -> Admission:
        if self.active + self.waiting >= self.limit + self.max_waiting:
            raise QueueFull(self.retry_after())
        self.waiting += 1
        return Admission(self)

    def retry_after(self) -> int:
        """Seconds until a place is likely free: recent report time per slot-round of waiters."""
        rounds = (self.waiting + 1) / self.limit
        return max(1, math.ceil(self._mean_seconds * rounds))

    def _record(self, seconds: float) -> None:
        # A moving mean of recent report times.
        self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * seconds
