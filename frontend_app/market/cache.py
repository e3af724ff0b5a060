"""Single-flight loading: one load per key at a time, its outcome shared.

When many requests want the same missing company at once, one of them loads it and
the others wait for that result (or that error) instead of each asking Yahoo; a
failure is shared, not cached. (The caches themselves are cachetools' TTLCache.)
Uses `threading` primitives, which eventlet/gevent monkey-patch into green ones, so
it works under the threaded dev server and the green worker alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


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
