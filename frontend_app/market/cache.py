"""A shared in-process cache with per-entry TTL, and single-flight loading.

Single flight: when many requests want the same missing key at once, one of them
loads it and the others wait for that result (or that error) instead of each
asking Yahoo. Uses `threading` primitives, which eventlet/gevent monkey-patch into
green ones, so it works under the threaded dev server and the green worker alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Values that expire `ttl` seconds after they were put."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            return value

    def put(self, key: Hashable, value: V, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class _Flight(Generic[V]):
    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    error: BaseException | None = None


class SingleFlight(Generic[V]):
    """Run at most one `load` per key at a time; concurrent callers share its outcome."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._lock = threading.Lock()

    def run(self, key: Hashable, load: Callable[[], V]) -> V:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        assert flight is not None
        if not leader:
            flight.done.wait()
        else:
            try:
                flight.value = load()
            except BaseException as error:  # shared with the waiters, then re-raised
                flight.error = error
            finally:
                with self._lock:
                    del self._flights[key]
                flight.done.set()
        if flight.error is not None:
            raise flight.error
        return flight.value  # type: ignore[return-value]
