"""The parts that write a report, built alike in a web instance (frontend_app.create_app)
and in a report worker (frontend_app.worker): the database (brought up to date), the
report store, market data, the LLM chain and the report pipeline over them."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Engine

from . import database, migrations
from .jobs import ReportPipeline
from .llm.chain import FallbackChain
from .llm.factory import build_chain
from .llm.tiers import GpuTier
from .market import MarketDataService, PeerFinder
from .reports.store import ReportStore
from .settings import Settings


@dataclass(frozen=True)
class ReportParts:
    engine: Engine
    store: ReportStore
    market: MarketDataService
    chain: FallbackChain
    # The GPU tier client(s), if the chain has them (for health and the model list).
    remote: GpuTier | None
    pipeline: ReportPipeline


def build_parts(
    settings: Settings,
    shared: redis.Redis | None,
    *,
    start_task: Callable[..., Any],
    sleep: Callable[[float], Any],
    report_url: Callable[[str], str],
) -> ReportParts:
    engine = database.connect(settings)
    migrations.upgrade(engine)
    store = ReportStore(engine)
    chain, remote = build_chain(settings, start_task=start_task, sleep=sleep)
    market = MarketDataService(source=settings.ert_data_source, shared=shared)
    pipeline = ReportPipeline(
        store=store,
        peers=PeerFinder(market),
        chain=chain,
        report_url=report_url,
        valuation=settings.valuation,
    )
    return ReportParts(engine, store, market, chain, remote, pipeline)


def freeze_startup_objects() -> None:
    """Leave the objects made at start (modules, models, ~365,000 of them) out of every later
    garbage collection. A full collection scanned them all: ~250 ms of CPU each, about twice
    in a few seconds of streaming, while it found a few hundred objects to free (issue 13).
    Called by a serving process once it is built."""
    gc.collect()
    gc.freeze()
