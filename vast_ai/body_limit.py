"""Refuse request bodies over a size limit (413) or that arrive too slowly (408).

The body is read (up to the limit, within the time limit) before the app sees it and then
replayed, so a lying or missing Content-Length cannot slip a larger body through, and a
client that sends half a body and stalls does not hold the request for ever: it gets 408
and its connection is closed.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vast_ai.errors import error_response

MAX_BODY_BYTES = 256 * 1024


class _Disconnected(Exception):
    """The client went away before its body was whole."""


class BodyLimit:
    def __init__(self, app: ASGIApp, timeout: float, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "bad_request", "Content-Length is not a number")(
                    scope, receive, send
                )
                return
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return

        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(receive)
        except _Disconnected:
            return
        except TimeoutError:
            await error_response(
                408,
                "request_timeout",
                f"The request body did not arrive within {self.timeout:g} s",
                headers={"Connection": "close"},
            )(scope, receive, send)
            return
        if body is None:
            await self._too_large(scope, receive, send)
            return

        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the size limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_kib = self.max_bytes // 1024
        await error_response(
            413, "payload_too_large", f"The request body is larger than {limit_kib} KiB"
        )(scope, receive, send)
