"""The market data's caches and single-flight loading, in this process or shared by
several instances through Redis (REDIS_URL).

Single flight: when many requests want the same missing company at once, one of them
loads it and the others wait for that result (or that error) instead of each asking
Yahoo; a failure is shared, not cached. With Redis, the loads of one key are also
serialised across instances by a Redis lock, and the loader looks in the shared cache
once it holds the lock, so N instances make one Yahoo call per ticker.
Uses `threading` primitives (and redis-py's sockets), which eventlet/gevent
monkey-patch into green ones, so it works under the threaded dev server and the green
worker alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import redis
from cachetools import TTLCache
from pydantic import TypeAdapter, ValidationError

V = TypeVar("V")

# Companies kept in each in-process cache at most (the least recently used go first).
CACHE_SIZE = 512
# Seconds one instance may hold a key's Redis lock (a load that takes longer, or an
# instance that died while loading, lets the next one in), and may wait for it.
LOCK_SECONDS = 120.0
PREFIX = "ert:market:"

log = logging.getLogger(__name__)


class _Outage:
    """Logs that Redis stopped answering once, and when it answers again."""

    def __init__(self) -> None:
        self._down = False

    def failed(self, error: redis.RedisError) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "Redis does not answer (%s): market data is fetched without the shared "
                "cache until it does",
                type(error).__name__,
            )

    def answered(self) -> None:
        if self._down:
            self._down = False
            log.info("Redis answers again: market data is shared again")


_outage = _Outage()


class Cache(Protocol[V]):
    def get(self, key: str) -> V | None: ...

    def set(self, key: str, value: V) -> None: ...


class MemoryCache(Generic[V]):
    """cachetools' TTLCache behind a lock (its caches are not thread-safe): one process."""

    def __init__(self, ttl: float) -> None:
        self._cache: TTLCache[str, V] = TTLCache(CACHE_SIZE, ttl)
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            return self._cache.get(key)

    def set(self, key: str, value: V) -> None:
        with self._lock:
            self._cache[key] = value


class RedisCache(Generic[V]):
    """Values as JSON in Redis with a TTL, shared by the instances. While Redis does not
    answer, a read is a miss and a write is dropped: a report being written goes on."""

    def __init__(self, client: redis.Redis, name: str, ttl: float, kind: type[V]) -> None:
        self._client = client
        self._prefix = f"{PREFIX}{name}:"
        self._ttl = max(1, round(ttl))
        self._adapter: TypeAdapter[V] = TypeAdapter(kind)

    def get(self, key: str) -> V | None:
        try:
            data = self._client.get(self._prefix + key)
            _outage.answered()
            return None if data is None else self._adapter.validate_json(data)
        except redis.RedisError as exc:
            _outage.failed(exc)
        except ValidationError:
            log.warning("market-data cache entry %s unreadable; fetching again", key)
        return None

    def set(self, key: str, value: V) -> None:
        try:
            self._client.set(self._prefix + key, self._adapter.dump_json(value), ex=self._ttl)
        except redis.RedisError as exc:
            _outage.failed(exc)


def cache_for(client: redis.Redis | None, name: str, ttl: float, kind: type[V]) -> Cache[V]:
    """In Redis when the instances share one, else in this process."""
    if client is None:
        return MemoryCache(ttl)
    return RedisCache(client, name, ttl, kind)


@dataclass
class _Flight(Generic[V]):
    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    error: BaseException | None = None


class SingleFlight(Generic[V]):
    """Run at most one `load` per key at a time (with `shared`: across the instances too);
    concurrent callers in this process share its outcome."""

    def __init__(self, shared: redis.Redis | None = None) -> None:
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._lock = threading.Lock()
        self._shared = shared

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
                flight.value = self._load(key, load)
            except BaseException as error:  # shared with the waiters, then re-raised
                flight.error = error
            finally:
                with self._lock:
                    del self._flights[key]
                flight.done.set()
        if flight.error is not None:
            raise flight.error
        return flight.value  # type: ignore[return-value]

    def _load(self, key: Hashable, load: Callable[[], V]) -> V:
        """`load` while holding the key's Redis lock, so that another instance loading it
        finishes first (`load` then finds its result in the shared cache). Without Redis,
        or while it does not answer, `load` alone."""
        if self._shared is None:
            return load()
        lock = self._shared.lock(
            f"{PREFIX}flight:{key}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
        )
        try:
            held = lock.acquire()
        except redis.RedisError as exc:
            _outage.failed(exc)
            held = False
        try:
            return load()
        finally:
            if held:
                with suppress(redis.RedisError):  # expired, or Redis went away: it ends alone
                    lock.release()
