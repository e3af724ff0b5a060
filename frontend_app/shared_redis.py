"""The Redis that several dashboard instances share (REDIS_URL, README: "Several instances"):
checked once at start, and the one error a person sees while it is gone.

Without REDIS_URL nothing here is used: one process keeps everything in memory, as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
import socketio
from pydantic import SecretStr

from .errors import TryLater
from .settings import ConfigError

# Seconds one Redis command, or connecting, may take: a Redis that stopped answering is
# noticed in seconds, not after the kernel's TCP timeout.
SOCKET_TIMEOUT = 5.0
# A refused job asks to be tried again this much later.
RETRY_AFTER = 30.0
# Connections one instance opens at most in each pool (Socket.IO's; the cache's and the
# limits'): redis-py's default pool fails a command once 100 are under way at once (a few
# hundred browsers under eventlet), and a Render Key Value plan caps its connections.
# Past that a command waits for a connection, this long at most.
POOL_SIZE = 50
POOL_WAIT = 20.0
# Flask-SocketIO's channel, so that a worker's emitter (SocketIO(message_queue=...)) is heard.
QUEUE_CHANNEL = "flask-socketio"


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
    """A client for REDIS_URL that answered a PING, or ConfigError naming REDIS_URL. The
    market-data cache and the rate limits share its pool."""
    client = redis.Redis(
        connection_pool=_pool(
            url.get_secret_value(),
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
        )
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        client.connection_pool.disconnect()
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


class MessageQueue(socketio.RedisManager):  # type: ignore[misc]  # python-socketio has no types
    """Socket.IO's message queue on REDIS_URL: an event emitted by any instance reaches the
    browsers connected to every other.

    python-socketio's own manager connects with redis-py's default pool; this one with a
    pool where an emit waits for a connection (see POOL_SIZE). No socket timeout: the
    subscriber waits for the next event as long as it takes."""

    def __init__(self, url: SecretStr, *, write_only: bool = False) -> None:
        """`write_only`: an external emitter (a report worker), which only sends."""
        super().__init__(url.get_secret_value(), channel=QUEUE_CHANNEL, write_only=write_only)

    def _redis_connect(self) -> None:
        self.redis = redis.Redis(connection_pool=_pool(self.redis_url))
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self.connected = True


def _pool(url: str, **options: float) -> redis.BlockingConnectionPool:
    return redis.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT, **options
    )
