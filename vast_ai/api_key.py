"""The API key's format, in one place: `generate_api_key.py` makes keys, settings check them.

Pure standard library, so `python generate_api_key.py` runs without the GPU tier installed.
"""

from __future__ import annotations

import secrets

KEY_PREFIX = "ert-"
# 24 random bytes encode to exactly 32 URL-safe base64 characters (no padding).
_KEY_BYTES = 24
KEY_LENGTH = len(KEY_PREFIX) + 32


def generate_api_key() -> str:
    """A fresh key: `ert-` followed by 32 URL-safe random characters."""
    return KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)


def key_problem(key: str) -> str | None:
    """Why `key` cannot be used (never quoting it), or None when it can.

    Spaces or a line break around a key are a copy-and-paste slip that would make every
    request fail with 401; a short key is one a guesser could find.
    """
    if key != key.strip():
        return "has spaces or a line break around it: set it without them"
    if len(key) < KEY_LENGTH:
        return (
            f"is shorter than the {KEY_LENGTH} characters `python generate_api_key.py` makes: "
            "generate a key with it"
        )
    return None
