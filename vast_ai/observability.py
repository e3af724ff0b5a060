"""Prometheus metrics (prometheus-client), one registry per app so tests stay independent.

Requests and latency are recorded by `MetricsMiddleware` under the route's path template
(never the raw path, which would let clients create unbounded label values); requests
answered before routing (a missing or wrong key, an unknown path) count as "unmatched".
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vast_ai.queue import AdmissionQueue
from vast_ai.schemas import ReportResponse

_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
_RATE_BUCKETS = (1, 5, 10, 20, 40, 60, 80, 100, 150, 200, 400)


class Metrics:
    def __init__(self, queue: AdmissionQueue) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ert_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ert_request_seconds",
            "Time to answer a request (a stream: until its last line)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "ert_tokens", "Tokens processed by the model", ["kind"], registry=self.registry
        )
        self.tokens_per_second = Histogram(
            "ert_tokens_per_second",
            "Completion tokens per second of each finished report",
            buckets=_RATE_BUCKETS,
            registry=self.registry,
        )
        self.reports = Counter(
            "ert_reports", "Reports finished", ["outcome"], registry=self.registry
        )
        self.queue_rejections = Counter(
            "ert_queue_rejections", "Requests refused with 429, queue full", registry=self.registry
        )
        active = Gauge("ert_queue_active", "Reports generating now", registry=self.registry)
        active.set_function(lambda: queue.active)
        waiting = Gauge("ert_queue_waiting", "Reports waiting for a slot", registry=self.registry)
        waiting.set_function(lambda: queue.waiting)
        limit = Gauge(
            "ert_queue_limit", "Reports that may generate at once", registry=self.registry
        )
        limit.set(queue.limit)

    def report_finished(self, report: ReportResponse) -> None:
        self.reports.labels("success" if report.success else "partial").inc()
        self.tokens.labels("prompt").inc(report.usage.prompt_tokens)
        self.tokens.labels("completion").inc(report.usage.completion_tokens)
        if report.usage.tokens_per_second > 0:
            self.tokens_per_second.observe(report.usage.tokens_per_second)

    def report_failed(self, code: str) -> None:
        self.reports.labels(code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - start)
