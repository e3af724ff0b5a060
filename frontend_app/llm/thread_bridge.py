"""Iterate an asyncio async iterator from the dashboard's (green) threads.

The vast_ai report writer is asyncio code; the dashboard runs under gunicorn's
eventlet worker, where an event loop sharing the hub with green threads is fragile.
So the writer gets a real OS thread (frontend_app.green.run_blocking, which uses
the green library's thread pool under the worker) with its own event loop, and hands its
items back through a deque: `append`/`popleft` are atomic, so neither side needs a
lock that would belong to one world or the other. The consuming side polls with a
cooperative sleep, which costs a few wake-ups a second and adds at most `poll`
seconds of latency.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

from ..green import run_blocking

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class AsyncIteratorThread(Generic[T]):
    """Runs `factory()` to exhaustion on an OS thread; iterate this object to get its items.

    `start_task` starts a background task in the dashboard's concurrency model and
    `sleep` yields to it (Flask-SocketIO's `start_background_task` and `sleep`).
    Breaking out of the iteration, or `stop_when()` turning true (checked while waiting
    for items), ends the iteration and cancels the async iterator.
    """

    def __init__(
        self,
        factory: Callable[[], AsyncIterator[T]],
        *,
        start_task: Callable[..., Any],
        sleep: Callable[[float], Any],
        stop_when: Callable[[], bool] = lambda: False,
        poll: float = 0.02,
    ) -> None:
        self._factory = factory
        self._start_task = start_task
        self._sleep = sleep
        self._stop_when = stop_when
        self._poll = poll
        self._items: deque[Any] = deque()
        self._stopped = False

    def __iter__(self) -> Iterator[T]:
        self._start_task(run_blocking, self._run_loop)
        try:
            while True:
                while self._items:
                    item = self._items.popleft()
                    if item is _DONE:
                        return
                    if isinstance(item, _Failure):
                        raise item.error
                    yield item
                if self._stop_when():
                    return
                self._sleep(self._poll)
        finally:
            self._stopped = True

    def _run_loop(self) -> None:
        """On the OS thread: a fresh event loop that lives as long as the iterator."""
        try:
            asyncio.run(self._pump())
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._items.append(_Failure(exc))
        self._items.append(_DONE)

    async def _pump(self) -> None:
        drain = asyncio.ensure_future(self._drain())
        while not drain.done():
            if self._stopped:
                drain.cancel()
            await asyncio.wait({drain}, timeout=0.1)
        if not drain.cancelled():
            drain.result()

    async def _drain(self) -> None:
        iterator = self._factory()
        try:
            async for item in iterator:
                if self._stopped:
                    break
                self._items.append(item)
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
