"""The HTTP API of DESIGN.md: /health, /models, /metrics, /generate_report(/stream)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import suppress
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import Receive, Scope, Send

from vast_ai import __version__
from vast_ai.auth import bearer_scheme
from vast_ai.engines.base import EngineError
from vast_ai.errors import ApiError
from vast_ai.queue import Admission, QueueFull
from vast_ai.schemas import (
    DoneEvent,
    ErrorBody,
    ErrorEvent,
    HealthResponse,
    ModelInfo,
    ModelsResponse,
    QueueStatus,
    ReportRequest,
    ReportResponse,
)
from vast_ai.service import Service

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Body that is not UTF-8 JSON, or a malformed Content-Length",
        401: "Missing or wrong API key",
        408: "The request body did not arrive within ERT_BODY_TIMEOUT seconds",
        413: "Request body larger than 256 KiB",
        422: "Invalid request, or a model this server does not offer",
        429: "Queue full; retry after the Retry-After header's seconds",
        503: "Engine unreachable, or the model is not pulled",
        504: "Generation timed out",
    }.items()
}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERRORS[401]}

router = APIRouter()
protected = APIRouter(dependencies=[Depends(bearer_scheme)], responses=_AUTH_ERRORS)


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@router.get("/health", response_model=HealthResponse, tags=["service"])
async def health(request: Request) -> HealthResponse:
    """Cheap: the engine's status is cached for a few seconds; nothing is ever pulled."""
    service = get_service(request)
    models = await service.models()
    status = await service.status.get()
    available = [name for name in models if status.has(name)]
    verdict: Literal["healthy", "degraded", "unhealthy"]
    if not status.online:
        verdict = "unhealthy"
    elif status.has(models[0]):
        verdict = "healthy"
    else:
        verdict = "degraded"
    return HealthResponse(
        status=verdict,
        model=models[0],
        ollama_status="online" if status.online else "offline",
        models_available=available,
        uptime=service.uptime(),
        version=__version__,
        engine=service.writer.engine_name,
        queue=QueueStatus(
            active=service.queue.active, waiting=service.queue.waiting, limit=service.queue.limit
        ),
    )


@protected.get("/models", response_model=ModelsResponse, tags=["service"])
async def models(request: Request) -> ModelsResponse:
    service = get_service(request)
    names = await service.models()
    status = await service.status.get()
    return ModelsResponse(
        engine=service.writer.engine_name,
        models=[
            ModelInfo(name=name, pulled=status.has(name), default=i == 0)
            for i, name in enumerate(names)
        ],
    )


@protected.get(
    "/metrics",
    response_class=Response,
    tags=["service"],
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    return Response(get_service(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def _admit(service: Service, body: ReportRequest) -> tuple[str, Admission]:
    """Model allowed (422), engine ready (503), a queue place free (429): in that order."""
    model = await service.resolve_model(body.model)
    await service.ensure_ready(model)
    try:
        return model, service.queue.admit()
    except QueueFull:
        service.metrics.queue_rejections.inc()
        raise


_T = TypeVar("_T")


async def _until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _cancelled_on_disconnect(request: Request, work: Coroutine[Any, Any, _T]) -> _T:
    """`work`'s result; if the client hangs up first, `work` is cancelled (its clean-up
    runs: the engine's stream closed, the queue slot freed) and a 499 is raised for the
    metrics, since nobody is left to read it."""
    task = asyncio.create_task(work)
    watcher = asyncio.create_task(_until_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watcher):
            pending.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.wait({task, watcher})
    if task.cancelled():
        raise ApiError(499, "client_disconnected", "The client hung up; the report was stopped")
    return task.result()


@protected.post(
    "/generate_report", response_model=ReportResponse, responses=_ERRORS, tags=["reports"]
)
async def generate_report(body: ReportRequest, request: Request) -> ReportResponse:
    """The whole report when done; a client that disconnects cancels its generation."""
    service = get_service(request)
    model, admission = await _admit(service, body)

    async def write() -> ReportResponse:
        async with admission:
            try:
                return await service.writer.write(body, model)
            except EngineError as exc:
                service.metrics.report_failed(exc.code)
                raise

    try:
        report = await _cancelled_on_disconnect(request, write())
    finally:
        admission.release()  # also if this request is cancelled before `write` began
    service.metrics.report_finished(report)
    return report


class _AdmittedStream(StreamingResponse):
    """A stream that frees its queue place however it ends, even if it never started."""

    def __init__(self, content: AsyncIterator[str], admission: Admission) -> None:
        super().__init__(
            content, media_type="application/x-ndjson", headers={"Cache-Control": "no-store"}
        )
        self._admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._admission.release()


@protected.post(
    "/generate_report/stream",
    response_class=StreamingResponse,
    responses={
        **_ERRORS,
        200: {
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "description": "One stream event per line; the last is `done` or `error`",
        },
    },
    tags=["reports"],
)
async def generate_report_stream(body: ReportRequest, request: Request) -> StreamingResponse:
    """The report as NDJSON events; a client that disconnects cancels its generation."""
    service = get_service(request)
    model, admission = await _admit(service, body)

    async def lines() -> AsyncIterator[str]:
        async with admission:
            # The events that are ready together go out in one write.
            async for batch in service.writer.event_batches(body, model):
                for event in batch:
                    if isinstance(event, DoneEvent):
                        service.metrics.report_finished(event.report)
                    elif isinstance(event, ErrorEvent):
                        service.metrics.report_failed(event.code)
                yield "".join(event.model_dump_json() + "\n" for event in batch)

    return _AdmittedStream(lines(), admission)
