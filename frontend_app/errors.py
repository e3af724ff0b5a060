"""ErtError: the one base of every failure a person is told about.

`code` is for programs (stable, snake_case), `message` for people (never a stack
trace, never a secret), `retryable` says whether trying again later may help.
frontend_app.web.errors renders it for HTTP and Socket.IO; a job's `failed` event
carries the same fields.
"""

from __future__ import annotations

import math
from typing import Any


class ErtError(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def fields(self) -> dict[str, Any]:
        """What the API, the Socket.IO acks and a job's `failed` event say about it."""
        return {"code": self.code, "message": self.message}


class TryLater(ErtError):
    """Refused for now, nothing done (a rate limit, a full queue): "try again in N minutes"."""

    status = 429  # the HTTP answer

    def __init__(self, code: str, reason: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        minutes = math.ceil(self.retry_after / 60)
        when = "1 minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(code, f"{reason}: try again in {when}", retryable=True)

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "retry_after": self.retry_after}


class DatabaseUnavailable(TryLater):
    """The database does not answer (down, restarting, out of connections): nothing can be
    read or kept for now."""

    status = 503

    def __init__(self) -> None:
        super().__init__("database_unavailable", "ERT cannot reach its database", 60)
