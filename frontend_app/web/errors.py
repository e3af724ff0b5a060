"""Errors as a page for people and as `{"error": {code, message}}` for the API and the
Socket.IO acks; never a trace. Every error is an ErtError by the time it is shown."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from .. import database
from ..errors import ErtError, TryLater

log = logging.getLogger(__name__)


def error_body(error: ErtError) -> dict[str, Any]:
    """The error as the JSON API and the Socket.IO acks answer it."""
    return {"error": error.fields()}


def error_response(status: int, error: ErtError) -> ResponseReturnValue:
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return jsonify(error_body(error)), status
    return render_template("error.html", status=status, message=error.message), status


def register(app: Flask) -> None:
    @app.errorhandler(TryLater)
    def on_try_later(exc: TryLater) -> ResponseReturnValue:
        response = make_response(error_response(exc.status, exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def on_database_down(exc: Exception) -> ResponseReturnValue:
        return on_try_later(database.unavailable(exc))

    for down in database.DOWN:
        app.register_error_handler(down, on_database_down)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> ResponseReturnValue:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, ErtError(code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s", request.path)
        return error_response(500, ErtError("internal_error", InternalServerError.description))
