"""The client of the remote GPU tier (vast_ai): health, models, and the NDJSON report stream.

Uses httpx's sync client: under the eventlet worker its sockets are green, so a
stream waiting for tokens costs one green thread. The API key goes only into the
Authorization header; no message this module produces contains it.

With `ERT_LLM_TLS_FINGERPRINT` set the client is made only once the server's certificate
has that fingerprint, and then trusts that certificate alone (vast_ai.tls.pinned_context):
OpenSSL refuses any other in the handshake, before the key or a report is sent.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from vast_ai.schemas import (
    ModelsResponse,
    QueueStatus,
    ReportRequest,
    ReportResponse,
    SectionDoneEvent,
    TokenEvent,
    parse_event,
)
from vast_ai.tls import TlsError, TlsUnreachable, pinned_context

from .base import Cancelled, GenerationCancelled, IntegrationError, Notice, Writing, writer_events

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 3.0
MAX_RETRY_AFTER = 10.0
# How often a report being written looks whether it was cancelled (the model may be silent).
CANCEL_POLL = 0.1
KEY_REFUSED = "The GPU tier refused the API key (check ERT_LLM_API_KEY)"
# The GPU tier writes each token on its own, several sections at once. When a read of a
# report's stream had to wait for the network, the next waits READ_WINDOW seconds first,
# so that it takes all that came meanwhile at once: one wake-up of the worker per window
# instead of one per token (issue 13: most of the dashboard's CPU per token). Pauses start
# READ_WINDOW apart at least, and each is followed by reading all that is there, so a
# busy worker does not fall behind the stream; the job sends text every 50 ms anyway.
READ_WINDOW = 0.03
# A read that took longer than this waited for the network (data already there takes µs).
WAITED = 0.001

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


def _start_thread(func: Callable[..., Any], *args: Any) -> None:
    threading.Thread(target=func, args=args, daemon=True).start()


class RemoteGpuTier:
    name = "remote"
    label = "the GPU tier"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        read_timeout: float,
        *,
        fingerprint: str | None = None,
        start_task: Callable[..., Any] = _start_thread,
        sleep: Callable[[float], Any] = time.sleep,
        retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._fingerprint = fingerprint
        self._start_task = start_task
        self._sleep = sleep
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        self.retries = retries
        self.backoff = backoff
        # Reports the GPU tier runs at once, as its /health said last (None: not known yet).
        self.slots: int | None = None

    def _client(self) -> httpx.Client:
        """The one client for the process, made at first use (for a pinned tier, only once
        the certificate matched). Making one loads the CA bundle (tens of ms of CPU), and
        its pool keeps connections open. No cap on connections: the JobManager already
        bounds the reports running at once."""
        with self._lock:
            if self._http is None:
                verify: ssl.SSLContext | bool = True
                if self._fingerprint is not None:
                    verify = self._pinned_context(self._fingerprint)
                self._http = httpx.Client(
                    timeout=self._timeout,
                    headers=self._headers,
                    verify=verify,
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
                )
            return self._http

    def _pinned_context(self, fingerprint: str) -> ssl.SSLContext:
        try:
            return pinned_context(self.base_url, fingerprint, CONNECT_TIMEOUT)
        except TlsUnreachable as exc:
            raise IntegrationError(
                "backend_unreachable", f"The GPU tier is unreachable: {exc}", retryable=True
            ) from None
        except TlsError as exc:
            raise IntegrationError(
                "certificate_refused", f"The GPU tier's certificate was refused: {exc}"
            ) from None

    def _connection_failed(self) -> None:
        """A connection to a pinned tier failed, perhaps because its certificate changed: pin
        again now, so that such a server is refused by name (IntegrationError), not merely
        "unreachable". Streams still reading through the old client finish undisturbed."""
        if self._fingerprint is not None:
            with self._lock:
                self._http = None
            self._client()

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._client().get(f"{self.base_url}{path}", timeout=HEALTH_TIMEOUT)
        except httpx.ConnectError:
            self._connection_failed()
            raise

    def health(self) -> dict[str, Any]:
        """The GPU tier's /health with the key checked by an authenticated call (/models), or
        `{"status": "unreachable" | "certificate_refused" | "key_refused", "message"}`;
        never raises."""
        try:
            response = self._get("/health")
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                return {"status": "unhealthy"}
            if self._get("/models").status_code == 401:
                return {**body, "status": "key_refused", "message": KEY_REFUSED}
        except IntegrationError as exc:
            status = "unreachable" if exc.retryable else exc.code
            return {"status": status, "message": exc.message}
        except (httpx.HTTPError, ValueError) as exc:
            return {"status": "unreachable", "message": f"{type(exc).__name__}"}
        with suppress(ValidationError):
            self.slots = QueueStatus.model_validate(body.get("queue")).limit
        return body

    def queue(self) -> QueueStatus | None:
        """The GPU tier's queue figures from its /health (one request, no key), or None when
        it does not answer them."""
        try:
            response = self._get("/health")
            response.raise_for_status()
            queue = QueueStatus.model_validate(response.json().get("queue"))
        except (httpx.HTTPError, ValueError, ValidationError, IntegrationError, AttributeError):
            return None
        self.slots = queue.limit
        return queue

    def models(self) -> ModelsResponse | None:
        """The GPU tier's /models, or None when it cannot say."""
        try:
            response = self._get("/models")
            response.raise_for_status()
            return ModelsResponse.model_validate(response.json())
        except (httpx.HTTPError, ValueError, ValidationError, IntegrationError):
            return None

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()

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
            self._pause(delay, cancelled)

    def _pause(self, seconds: float, cancelled: Cancelled) -> None:
        deadline = time.monotonic() + seconds
        while not cancelled() and (left := deadline - time.monotonic()) > 0:
            self._sleep(min(left, CANCEL_POLL))

    def _stream(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        if cancelled():
            raise GenerationCancelled()
        body = request.model_dump(mode="json")
        url = f"{self.base_url}/generate_report/stream"
        try:
            with self._client().stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    error = _error_from_response(response)
                    if response.status_code == 429:
                        raise _Retry(error, _retry_after(response, self.backoff))
                    raise error
                with self._hang_up_on_cancel(response, cancelled):
                    lines = _events(response, cancelled, self._sleep)
                    report = yield from writer_events(lines, self.label)
                if report is not None:
                    return report
        # A hang-up on cancel ends the read in whatever way the socket layer reports it.
        except (httpx.TransportError, OSError, ValueError) as exc:
            if cancelled():
                raise GenerationCancelled() from None
            if isinstance(exc, httpx.TimeoutException):
                raise IntegrationError(
                    "backend_timeout",
                    f"The GPU tier did not answer in time ({type(exc).__name__})",
                    retryable=isinstance(exc, httpx.ConnectTimeout),
                ) from None
            if isinstance(exc, httpx.ConnectError):
                self._connection_failed()
            if isinstance(exc, httpx.TransportError):
                raise IntegrationError(
                    "backend_unreachable",
                    f"The GPU tier at {self.base_url} is unreachable ({type(exc).__name__})",
                    retryable=True,
                ) from None
            raise
        raise IntegrationError("stream_ended", "The GPU tier's stream ended before the report")

    @contextmanager
    def _hang_up_on_cancel(self, response: httpx.Response, cancelled: Cancelled) -> Iterator[None]:
        """While the stream is read, look every CANCEL_POLL s whether the job was cancelled,
        and if so hang up: a read waiting on a silent model ends at once, and the GPU tier,
        its client gone, stops the generation and frees its slot."""
        finished = threading.Event()

        def watch() -> None:
            while not finished.is_set():
                if cancelled():
                    _hang_up(response)
                    return
                self._sleep(CANCEL_POLL)

        self._start_task(watch)
        try:
            yield
        finally:
            finished.set()


def _hang_up(response: httpx.Response) -> None:
    """Shut the response's connection down (both ways): unlike close(), this wakes a read
    blocked on it in another thread and tells the server at once."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _events(
    response: httpx.Response, cancelled: Cancelled, sleep: Callable[[float], object]
) -> Iterator[BaseModel]:
    """The stream's events, one per NDJSON line, read in batches (READ_WINDOW). The job
    merges each section's tokens and sends them every 50 ms."""
    pending = b""
    chunks = response.iter_bytes()
    paused = 0.0
    while True:
        asked = time.monotonic()
        chunk = next(chunks, None)
        waited = time.monotonic() - asked > WAITED
        if chunk is None:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if cancelled():
                raise GenerationCancelled()
            if line.strip():
                yield _parse(line)
        if waited and time.monotonic() - paused >= READ_WINDOW:
            paused = time.monotonic()
            sleep(READ_WINDOW)
    if cancelled():  # the hang-up may end the read as if the server had finished
        raise GenerationCancelled()
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
