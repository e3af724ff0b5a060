"""The Redis that several dashboard instances share (REDIS_URL, README: "Several instances"):
checked once at start, and the one error a person sees while it is gone.

Without REDIS_URL nothing here is used: one process keeps everything in memory, as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from pydantic import SecretStr

from .errors import TryLater
from .settings import ConfigError

# Seconds one Redis command, or connecting, may take: a Redis that stopped answering is
# noticed in a second, not after the kernel's TCP timeout.
SOCKET_TIMEOUT = 2.0
# A refused job asks to be tried again this much later.
RETRY_AFTER = 30.0


class Unavailable(TryLater):
    """Redis, which the instances share, does not answer: nothing new can start for now."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "temporarily_unavailable",
            "ERT is temporarily unavailable (its shared store does not answer)",
            RETRY_AFTER,
        )


def connect(url: SecretStr) -> redis.Redis:
    """A client for REDIS_URL that answered a PING, or ConfigError naming REDIS_URL."""
    client = redis.Redis.from_url(
        url.get_secret_value(),
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise ConfigError(
            f"REDIS_URL: Redis at {where(url)} does not answer ({type(exc).__name__}): start "
            "it, or unset REDIS_URL to run a single instance"
        ) from None
    return client


def where(url: SecretStr) -> str:
    """Where REDIS_URL points, for messages: host and port, or the socket path; never the
    password."""
    parts = urlsplit(url.get_secret_value())
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}"
