"""Bearer-key authentication: compared in constant time, never logged, never echoed."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vast_ai.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="The server's ERT_API_KEY")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ert"'}


def keys_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Refuse with 401 unless `Authorization: Bearer <ERT_API_KEY>` is present and right."""
    expected: str = request.app.state.api_key
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send the API key as `Authorization: Bearer <key>`",
            headers=_CHALLENGE,
        )
    if not keys_match(credentials.credentials, expected):
        raise ApiError(401, "unauthorized", "The API key is not valid", headers=_CHALLENGE)
