"""AsyncIteratorThread: an async iterator run on its own thread and event loop, read from ours."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest

from frontend_app.llm.thread_bridge import AsyncIteratorThread


def start_thread(func: Callable[..., object], *args: object) -> None:
    threading.Thread(target=func, args=args, daemon=True).start()


def bridge(factory: Callable[[], AsyncIterator[int]]) -> AsyncIteratorThread[int]:
    return AsyncIteratorThread(factory, start_task=start_thread, sleep=time.sleep, poll=0.005)


def test_items_arrive_in_order_from_another_thread_and_loop() -> None:
    seen: list[tuple[int, int]] = []

    async def numbers() -> AsyncIterator[int]:
        for n in range(5):
            await asyncio.sleep(0.001)
            seen.append((threading.get_ident(), id(asyncio.get_running_loop())))
            yield n

    assert list(bridge(numbers)) == [0, 1, 2, 3, 4]
    assert {thread for thread, _ in seen} != {threading.get_ident()}
    assert len({loop for _, loop in seen}) == 1


def test_an_exception_in_the_iterator_is_raised_to_the_reader() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise LookupError("engine gone")

    items = bridge(failing)
    with pytest.raises(LookupError, match="engine gone"):
        for _ in items:
            pass


def test_stopping_cancels_an_iterator_that_waits_and_runs_its_cleanup() -> None:
    cleaned = threading.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.sleep(3600)  # a model that never answers
            yield 2
        finally:
            cleaned.set()

    for item in bridge(endless):
        assert item == 1
        break
    assert cleaned.wait(10), "the async iterator was not cancelled"


def test_stop_when_ends_the_wait_for_an_iterator_that_is_silent() -> None:
    cleaned = threading.Event()
    asked_to_stop = threading.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(3600)
            yield 1
        finally:
            cleaned.set()

    stream = AsyncIteratorThread(
        silent,
        start_task=start_thread,
        sleep=time.sleep,
        stop_when=asked_to_stop.is_set,
        poll=0.005,
    )
    threading.Timer(0.05, asked_to_stop.set).start()
    assert list(stream) == []
    assert cleaned.wait(10)
