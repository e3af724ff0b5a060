"""Every failure leaves as `{"error": {"code", "message", "retryable"}}` with a fitting status.

No handler echoes the request body or a stack trace; unexpected errors are logged here
and answered with a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vast_ai.engines.base import EngineError
from vast_ai.queue import QueueFull
from vast_ai.schemas import ErrorBody, ErrorInfo

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    retryable: bool = False,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorInfo(code=code, message=message, retryable=retryable))
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


def validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """`field: problem` for each error, without the offending values."""
    problems = []
    for error in errors[:10]:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        problems.append(f"{'.'.join(loc) or 'body'}: {message}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return "; ".join(problems) + more


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(
        exc.status, exc.code, exc.message, retryable=exc.retryable, headers=exc.headers
    )


async def _engine_error(request: Request, exc: EngineError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, retryable=exc.retryable)


async def _queue_full(request: Request, exc: QueueFull) -> JSONResponse:
    return error_response(
        429, "queue_full", str(exc), retryable=True, headers={"Retry-After": str(exc.retry_after)}
    )


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            # The parser's complaint and where; never the body itself.
            reason = error.get("ctx", {}).get("error", "JSON decode error")
            position = error.get("loc", ("body", 0))[-1]
            message = f"The body is not valid JSON: {reason} (at character {position})"
            return error_response(400, "bad_request", message)
    return error_response(422, "invalid_request", validation_message(errors))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "An unexpected error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types handlers as taking any Exception; each of these gets only its own type.
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(EngineError, _engine_error)  # type: ignore[arg-type]
    app.add_exception_handler(QueueFull, _queue_full)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
