"""The parts one dashboard app is built from, kept in `app.extensions["ert"]`, and the
answers the pages need from them: the GPU tier's state, the model list, and starting
a report someone asked for (rate limits, then the job manager's admission)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

import redis
from cachetools import TTLCache, cachedmethod
from flask import current_app

from ..jobs import Job, JobManager, JobSpec
from ..llm.chain import FallbackChain
from ..llm.tiers import GpuTier
from ..market import MarketDataService
from ..reports.store import ReportStore
from ..settings import Settings
from .accounts import Accounts
from .limits import Limits

# Seconds the GPU tier's health and model list are kept before asking again.
STATUS_TTL = 5.0


@dataclass
class Dashboard:
    settings: Settings
    store: ReportStore
    jobs: JobManager
    chain: FallbackChain
    remote: GpuTier | None
    market: MarketDataService
    accounts: Accounts
    limits: Limits
    sign_in_required: bool
    # The Redis several instances share (REDIS_URL); None: one process.
    redis: redis.Redis | None = None
    _status: TTLCache[Any, dict[str, Any]] = field(
        default_factory=lambda: TTLCache(1, STATUS_TTL), repr=False
    )
    _models: TTLCache[Any, list[dict[str, Any]]] = field(
        default_factory=lambda: TTLCache(1, STATUS_TTL), repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cachedmethod(lambda self: self._status, lock=lambda self: self._lock)
    def backend_status(self) -> dict[str, Any]:
        """The GPU tier's health and the chain the settings built."""
        if self.remote is not None:
            remote = self.remote.health()
            remote["url"] = self.remote.base_url
        else:
            remote = {"status": "disabled"}
        status = {
            "remote": remote,
            "integrations": [i.name for i in self.chain.integrations],
            "jobs": self.jobs.counts(),
        }
        if self.redis is not None:
            status["redis"] = self._redis_status()
        return status

    def _redis_status(self) -> str:
        assert self.redis is not None
        try:
            self.redis.ping()
        except redis.RedisError:
            return "unreachable"
        return "ok"

    @cachedmethod(lambda self: self._models, lock=lambda self: self._lock)
    def models(self) -> list[dict[str, Any]]:
        """The model picker's choices: the GPU tier's /models, else the configured list."""
        answer = self.remote.models() if self.remote is not None else None
        if answer is not None and answer.models:
            return [m.model_dump() for m in answer.models]
        default = self.settings.ert_models[0]
        return [
            {"name": m, "pulled": None, "default": m == default} for m in self.settings.ert_models
        ]

    def start(self, spec: JobSpec, account: str | None, address: str) -> Job:
        """Start or queue the report `account` (None: sign-in is off) asked for from `address`;
        TryLater, with nothing queued, past a rate limit or the queue's bounds."""
        self.limits.report(account, address)
        return self.jobs.submit(replace(spec, owner=account or f"address:{address}"))

    def close(self) -> None:
        """Let unfinished jobs go for the next process, close the GPU tier client and the
        database pool (when the process ends)."""
        self.jobs.release()
        if self.remote is not None:
            self.remote.close()
        if self.redis is not None:
            self.redis.connection_pool.disconnect()
        self.store.dispose()


def dashboard() -> Dashboard:
    ert: Dashboard = current_app.extensions["ert"]
    return ert
