"""Integrations that run vast_ai's report writer inside the dashboard with another engine.

Ollama directly, an OpenAI-compatible server, and the data-only writer all reuse the
one `ReportWriter`; it runs on an OS thread with its own event loop
(`AsyncIteratorThread`), so the dashboard's green threads never host asyncio.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from vast_ai.engines.base import Engine, EngineError
from vast_ai.schemas import ReportRequest
from vast_ai.writer import ReportWriter

from .base import Cancelled, GenerationCancelled, IntegrationError, Writing, writer_events
from .thread_bridge import AsyncIteratorThread

log = logging.getLogger(__name__)


class InProcessWriter:
    def __init__(
        self,
        *,
        name: str,
        label: str,
        engine_factory: Callable[[], Engine],
        start_task: Callable[..., Any],
        sleep: Callable[[float], Any],
        model: str | None = None,
        default_model: str = "",
        check_engine: bool = True,
    ) -> None:
        """`model` overrides the requested one (an OpenAI server has its own names);
        `default_model` is used when the request leaves the choice open.

        With `check_engine`, the engine's model list is asked first, so an engine
        that is down fails in a second instead of once per section.
        """
        self.name = name
        self.label = label
        self._engine_factory = engine_factory
        self._start_task = start_task
        self._sleep = sleep
        self._model = model
        self._default_model = default_model
        self._check_engine = check_engine

    def write(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        model = self._model or request.model or self._default_model
        stream = AsyncIteratorThread(
            lambda: self._events(request, model),
            start_task=self._start_task,
            sleep=self._sleep,
            stop_when=cancelled,
        )
        try:
            report = yield from writer_events(stream, self.label)
        except EngineError as exc:
            raise IntegrationError(exc.code, f"{self.label} failed: {exc.message}") from None
        except (IntegrationError, GenerationCancelled):
            raise
        except Exception:
            # The next step of the chain can still write the report.
            log.exception("%s failed unexpectedly", self.name)
            raise IntegrationError("engine_error", f"{self.label} failed unexpectedly") from None
        if report is not None:
            return report
        if cancelled():
            raise GenerationCancelled()
        raise IntegrationError("stream_ended", f"{self.label} stopped before the report was done")

    async def _events(self, request: ReportRequest, model: str) -> AsyncIterator[BaseModel]:
        engine = self._engine_factory()
        try:
            if self._check_engine:
                await engine.list_models()
            writer = ReportWriter(engine, concurrency_limit=1, engine_name=engine.name)
            async for event in writer.events(request, model):
                yield event
        finally:
            await engine.close()
