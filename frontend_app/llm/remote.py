"""The client of the remote GPU tier (vast_ai): health, models, and the NDJSON report stream.

Uses httpx's sync client: under the eventlet worker its sockets are green, so a
stream waiting for tokens costs one green thread. The API key goes only into the
Authorization header; no message this module produces contains it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from vast_ai.schemas import (
    ModelsResponse,
    ReportRequest,
    ReportResponse,
    SectionDoneEvent,
    TokenEvent,
    parse_event,
)

from .base import Cancelled, GenerationCancelled, IntegrationError, Notice, Writing, writer_events

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 3.0
MAX_RETRY_AFTER = 10.0

_STATUS_MEANING = {
    401: "refused the API key (check ERT_LLM_API_KEY)",
    413: "refused the request as too large",
    422: "refused the request as invalid",
    429: "is busy (queue full)",
    503: "cannot reach its model",
    504: "timed out writing the report",
}
# Never retried: a wrong key or a bad request stays wrong; a timeout already waited.
_NOT_RETRYABLE = {400, 401, 403, 404, 413, 422, 504}


def _error_from_response(response: httpx.Response) -> IntegrationError:
    status = response.status_code
    code, detail = f"http_{status}", ""
    try:
        error = response.json()["error"]
        code, detail = str(error["code"]), str(error["message"])[:300]
    except (ValueError, KeyError, TypeError):
        pass
    meaning = _STATUS_MEANING.get(status, f"answered HTTP {status}")
    message = f"The GPU tier {meaning}" + (f": {detail}" if detail else "")
    retryable = status not in _NOT_RETRYABLE and code != "model_not_pulled"
    return IntegrationError(code, message, retryable=retryable)


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(float(response.headers.get("Retry-After", default)), MAX_RETRY_AFTER)
    except ValueError:
        return default


class RemoteGpuTier:
    name = "remote"
    label = "the GPU tier"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        read_timeout: float,
        *,
        retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # One client for the process: making one loads the CA bundle (tens of ms of CPU),
        # and its pool keeps connections to the GPU tier open. No cap on connections:
        # the number of reports running at once is already bounded by the JobManager.
        self._client = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
        )
        self.retries = retries
        self.backoff = backoff

    def health(self) -> dict[str, Any]:
        """The GPU tier's /health, or `{"status": "unreachable", ...}`; never raises."""
        try:
            response = self._client.get(f"{self.base_url}/health", timeout=HEALTH_TIMEOUT)
            response.raise_for_status()
            body = response.json()
            return body if isinstance(body, dict) else {"status": "unhealthy"}
        except (httpx.HTTPError, ValueError) as exc:
            return {"status": "unreachable", "message": f"{type(exc).__name__}"}

    def models(self) -> ModelsResponse | None:
        """The GPU tier's /models, or None when it cannot say."""
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=HEALTH_TIMEOUT)
            response.raise_for_status()
            return ModelsResponse.model_validate(response.json())
        except (httpx.HTTPError, ValueError, ValidationError):
            return None

    def close(self) -> None:
        self._client.close()

    def write(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        attempt = 0
        while True:
            attempt += 1
            shown = False  # text reached the person: a retry would show it twice
            stream = self._stream(request, cancelled)
            try:
                while True:
                    event = next(stream)
                    shown = shown or isinstance(event, TokenEvent | SectionDoneEvent)
                    yield event
            except StopIteration as finished:
                report: ReportResponse = finished.value
                return report
            except _Retry as retry:
                error, delay = retry.error, retry.delay
            except IntegrationError as exc:
                error, delay = exc, self.backoff * attempt
            finally:
                stream.close()
            # A retry would repeat text already shown, so only a clean failure is retried.
            if not error.retryable or shown or attempt > self.retries:
                raise error
            log.info("GPU tier attempt %d failed (%s); retrying", attempt, error.code)
            yield Notice(f"{error.message}; trying again in {delay:.0f} s")
            time.sleep(delay)

    def _stream(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        body = request.model_dump(mode="json")
        url = f"{self.base_url}/generate_report/stream"
        try:
            with self._client.stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    error = _error_from_response(response)
                    if response.status_code == 429:
                        raise _Retry(error, _retry_after(response, self.backoff))
                    raise error
                report = yield from writer_events(_events(response, cancelled), self.label)
                if report is not None:
                    return report
        except httpx.TimeoutException as exc:
            retryable = isinstance(exc, httpx.ConnectTimeout)
            raise IntegrationError(
                "backend_timeout",
                f"The GPU tier did not answer in time ({type(exc).__name__})",
                retryable=retryable,
            ) from None
        except httpx.TransportError as exc:
            raise IntegrationError(
                "backend_unreachable",
                f"The GPU tier at {self.base_url} is unreachable ({type(exc).__name__})",
                retryable=True,
            ) from None
        raise IntegrationError("stream_ended", "The GPU tier's stream ended before the report")


def _events(response: httpx.Response, cancelled: Cancelled) -> Iterator[BaseModel]:
    """The stream's events, one per NDJSON line, as the network brings them. (The job
    merges a section's tokens and sends them every 50 ms, whatever the reads.)"""
    pending = b""
    for chunk in response.iter_bytes():
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if cancelled():
                raise GenerationCancelled()
            if line.strip():
                yield _parse(line)
    if pending.strip():
        yield _parse(pending)


def _parse(line: bytes) -> BaseModel:
    try:
        return parse_event(line)
    except ValidationError:
        raise IntegrationError("bad_stream", "The GPU tier sent a line ERT cannot read") from None


class _Retry(Exception):
    """A failure that says when to try again (429 with Retry-After)."""

    def __init__(self, error: IntegrationError, delay: float) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay
