"""Bearer-key authentication: compared in constant time, never logged, never echoed.

`RequireApiKey` is ASGI middleware, so it answers before anything reads a request's body:
a request without the key gets 401 whatever it sends (malformed JSON, a huge or a slow
body), and the interactive docs and the OpenAPI schema need the key like the rest.
"""

from __future__ import annotations

import hmac

from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from vast_ai.errors import error_response

# The only path anyone may reach without the key (DESIGN.md).
PUBLIC_PATHS = frozenset({"/health"})
# Declares the scheme in the OpenAPI schema; the check itself is RequireApiKey's.
bearer_scheme = HTTPBearer(auto_error=False, description="The server's ERT_API_KEY")
# The connection is closed too: a body the client may still be sending is never read.
_REFUSAL_HEADERS = {"WWW-Authenticate": 'Bearer realm="ert"', "Connection": "close"}


def keys_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class RequireApiKey:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in PUBLIC_PATHS:
            problem = self._problem(Headers(scope=scope).get("authorization"))
            if problem is not None:
                response = error_response(401, "unauthorized", problem, headers=_REFUSAL_HEADERS)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _problem(self, authorization: str | None) -> str | None:
        scheme, credentials = get_authorization_scheme_param(authorization)
        if scheme.lower() != "bearer" or not credentials:
            return "Send the API key as `Authorization: Bearer <key>`"
        if not keys_match(credentials, self._api_key):
            return "The API key is not valid"
        return None
