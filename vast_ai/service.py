"""What the routes share: engine, writer, queue, metrics, the models on offer and a cached
engine status (so /health stays cheap and never asks Ollama to pull anything)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from vast_ai.engines import served_models
from vast_ai.engines.base import Engine, EngineError, EngineUnreachable, ModelNotPulled
from vast_ai.engines.ollama_engine import same_model
from vast_ai.errors import ApiError
from vast_ai.observability import Metrics
from vast_ai.queue import AdmissionQueue
from vast_ai.settings import Settings
from vast_ai.writer import ReportWriter
from vast_ai.writer.events import TOKEN_WINDOW

STATUS_TTL_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class EngineStatus:
    online: bool
    models: list[str] = field(default_factory=list)
    error: EngineError | None = None

    def has(self, model: str) -> bool:
        return any(same_model(model, pulled) for pulled in self.models)


class EngineStatusCache:
    """The engine's model list, asked for at most once per `ttl` seconds."""

    def __init__(
        self, engine: Engine, unreachable_code: str, ttl: float = STATUS_TTL_SECONDS
    ) -> None:
        self._engine = engine
        self._unreachable_code = unreachable_code
        self._ttl = ttl
        self._status: EngineStatus | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, fresh: bool = False) -> EngineStatus:
        async with self._lock:
            stale = time.monotonic() - self._checked > self._ttl
            if self._status is None or stale or fresh:
                self._status = await self._probe()
                self._checked = time.monotonic()
            return self._status

    async def _probe(self) -> EngineStatus:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                return EngineStatus(online=True, models=await self._engine.list_models())
        except EngineError as exc:
            return EngineStatus(online=False, error=exc)
        except TimeoutError:
            message = (
                f"The {self._engine.name} engine did not list its models "
                f"within {PROBE_TIMEOUT_SECONDS:g} s"
            )
            return EngineStatus(
                online=False, error=EngineUnreachable(message, code=self._unreachable_code)
            )


class Service:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.started = time.monotonic()
        self.queue = AdmissionQueue(settings.ert_max_concurrency, settings.ert_max_queue)
        self.metrics = Metrics(self.queue)
        self.writer = ReportWriter(
            engine,
            concurrency_limit=settings.ert_max_concurrency,
            grounding_threshold=settings.ert_grounding_threshold,
            generation_timeout=settings.ert_generation_timeout,
            num_ctx=settings.ollama_context_length,
            token_window=TOKEN_WINDOW,
        )
        unreachable = "ollama_unreachable" if engine.name == "ollama" else "engine_unreachable"
        self.status = EngineStatusCache(engine, unreachable)
        self._models: list[str] | None = None

    async def models(self) -> list[str]:
        """The models requests may name, the default first.

        An engine that cannot name its model yet (its library or file is missing) is listed
        under its engine name, and asked again next time; its status explains the problem.
        """
        if self._models is None:
            try:
                self._models = await served_models(self.settings, self.engine)
            except EngineError:
                return [self.engine.name]
        return self._models

    async def resolve_model(self, requested: str | None) -> str:
        models = await self.models()
        if requested is None:
            return models[0]
        for name in models:
            if same_model(requested, name):
                return name
        raise ApiError(
            422,
            "unknown_model",
            f"Model '{requested}' is not offered here; choose one of: {', '.join(models)}",
        )

    async def ensure_ready(self, model: str) -> None:
        """Raise the 503 a generation would meet: engine unreachable or model not pulled."""
        status = await self.status.get()
        if not (status.online and status.has(model)):
            status = await self.status.get(fresh=True)
        if status.error is not None:
            raise status.error
        if not status.has(model):
            raise ModelNotPulled(model)

    def uptime(self) -> float:
        return round(time.monotonic() - self.started, 3)
