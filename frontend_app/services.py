"""The objects one dashboard app is built from, kept in `app.extensions["ert"]`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_socketio import SocketIO

from .jobs import JobManager
from .llm.chain import FallbackChain
from .llm.remote import RemoteGpuTier
from .market import MarketDataService
from .market.tickers import close_matches
from .settings import Settings
from .store import ReportStore

STATUS_TTL = 5.0


@dataclass
class Dashboard:
    settings: Settings
    socketio: SocketIO
    store: ReportStore
    jobs: JobManager
    chain: FallbackChain
    remote: RemoteGpuTier | None
    market: MarketDataService
    _status: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)
    _models: tuple[float, list[dict[str, Any]]] | None = field(default=None, repr=False)

    def backend_status(self) -> dict[str, Any]:
        """The GPU tier's health (cached a few seconds) and the chain the settings built."""
        now = time.monotonic()
        if self._status is not None and now - self._status[0] < STATUS_TTL:
            return self._status[1]
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
        self._status = (now, status)
        return status

    def ticker_suggestions(self, text: str, limit: int = 6) -> list[str]:
        """Tickers ERT knows (bundled snapshots, past reports) that `text` may be meant as."""
        known = set(self.market.snapshots.tickers()) | {r.ticker for r in self.store.recent(200)}
        starting = sorted(t for t in known if t.startswith(text) and t != text)
        return (starting or close_matches(text, known, limit))[:limit]

    def models(self) -> list[dict[str, Any]]:
        """The model picker's choices (cached a few seconds): the GPU tier's /models, else
        the configured list."""
        now = time.monotonic()
        if self._models is not None and now - self._models[0] < STATUS_TTL:
            return self._models[1]
        answer = self.remote.models() if self.remote is not None else None
        if answer is not None and answer.models:
            models = [m.model_dump() for m in answer.models]
        else:
            default = self.settings.ert_models[0]
            models = [
                {"name": m, "pulled": None, "default": m == default}
                for m in self.settings.ert_models
            ]
        self._models = (now, models)
        return models


def dashboard() -> Dashboard:
    return current_app.extensions["ert"]
