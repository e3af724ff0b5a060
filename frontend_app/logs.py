"""The dashboard's log: one line per event, in gunicorn's format, nothing a person should ignore.

- `configure_logging()` (wsgi.py) sends every logger's records to stderr as gunicorn
  writes its own: `[time] [pid] [LEVEL] logger: message`. Without it, Python prints
  bare warnings and drops the rest.
- `ErrorsToLog` wraps the WSGI app so what servers and libraries write to `wsgi.errors`
  becomes log records, one per line. eventlet's websocket writes its messages there
  without a newline (they ran together), among them "socket shutdown error: [Errno 9]"
  each time a browser leaves: the socket was already closed, nothing to act on, so it
  is logged at DEBUG.
- Conditions are logged where they are known, once each (Yahoo Finance unreachable:
  frontend_app.market.service), not by the libraries per retry (yfinance is muted to
  errors in frontend_app.market.yahoo).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# What is written to wsgi.errors when a browser leaves: logged, but below INFO.
_EXPECTED = ("socket shutdown error",)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def configure_logging() -> None:
    """Log to stderr in gunicorn's format, unless logging is set up already (a test run):
    the dashboard's own records from INFO, the libraries' from WARNING (their INFO is a
    line per request, httpx's, or per font table, fontTools' in every PDF)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("frontend_app").setLevel(logging.INFO)


class LogStream:
    """A write-only text stream whose every line becomes one log record."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                expected = any(marker in line for marker in _EXPECTED)
                self._logger.log(logging.DEBUG if expected else logging.WARNING, "%s", line)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass


class ErrorsToLog:
    """WSGI middleware: `wsgi.errors` is a LogStream (see the module's docstring)."""

    def __init__(self, app: WsgiApp, logger: str = "frontend_app.wsgi") -> None:
        self.app = app
        self.stream = LogStream(logging.getLogger(logger))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ["wsgi.errors"] = self.stream
        return self.app(environ, start_response)
