"""ErtError: the one base of every failure a person is told about.

`code` is for programs (stable, snake_case), `message` for people (never a stack
trace, never a secret), `retryable` says whether trying again later may help.
frontend_app.web.errors renders it for HTTP and Socket.IO; a job's `failed` event
carries the same fields.
"""

from __future__ import annotations

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
