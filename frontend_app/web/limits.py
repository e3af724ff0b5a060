"""Rate limits at the web edge: reports asked for per account and per address, sign-in
attempts per address and per e-mail. One rule each, for HTTP and Socket.IO alike.

Counted with the `limits` library (the engine under Flask-Limiter, whose decorators see
HTTP routes only) in a moving window, in the storage ERT_RATELIMIT_STORAGE_URI names:
memory:// for one process; Redis (REDIS_URL by default) when several instances share the
counts, so a person cannot multiply a limit by the number of instances. While that
Redis does not answer, what is counted is refused as temporarily unavailable.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..errors import TryLater
from ..settings import Settings
from ..shared_redis import SOCKET_TIMEOUT, Unavailable

SIGN_INS_PER_ADDRESS = parse_many("10/minute;100/day")
SIGN_INS_PER_EMAIL = parse_many("10/hour")

Check = tuple[RateLimitItem, str, str]


class Limits:
    def __init__(self, settings: Settings, shared: redis.Redis | None = None) -> None:
        """`shared`: the client for REDIS_URL, whose pool the counts use when they are kept
        there (the default with REDIS_URL)."""
        uri = settings.ratelimit_storage_uri
        options: dict[str, Any] = {}
        if (
            shared is not None
            and settings.redis_url is not None
            and uri.endswith(settings.redis_url.get_secret_value())
        ):
            options["connection_pool"] = shared.connection_pool
        elif uri.startswith("redis"):
            options["socket_timeout"] = SOCKET_TIMEOUT
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        self._window = MovingWindowRateLimiter(storage)
        self._reports_per_account = parse_many(settings.ert_reports_per_user)
        self._reports_per_address = parse_many(settings.ert_reports_per_address)

    def report(self, account: str | None, address: str) -> None:
        """Count one report asked for from `address` (by `account`, when signed in), or
        raise TryLater and count nothing."""
        checks = [(item, "report:address", address) for item in self._reports_per_address]
        if account is not None:
            checks += [(item, "report:account", account) for item in self._reports_per_account]
        self._take(checks, "rate_limited", "You asked for many reports in a short time")

    def sign_in(self, address: str, email: str) -> None:
        """Count one sign-in attempt, or raise TryLater (password guessing)."""
        checks = [(item, "sign-in:address", address) for item in SIGN_INS_PER_ADDRESS]
        checks += [(item, "sign-in:email", email.strip().lower()) for item in SIGN_INS_PER_EMAIL]
        self._take(checks, "too_many_sign_ins", "Too many sign-in attempts")

    def _take(self, checks: list[Check], code: str, reason: str) -> None:
        """Count all checks, or none; Unavailable while shared counts cannot be read."""
        try:
            self._take_all(checks, code, reason)
        except StorageError:
            raise Unavailable() from None

    def _take_all(self, checks: list[Check], code: str, reason: str) -> None:
        for item, *keys in checks:
            if not self._window.test(item, *keys):
                reset = self._window.get_window_stats(item, *keys).reset_time
                raise TryLater(code, reason, reset - time.time())
        for item, *keys in checks:
            self._window.hit(item, *keys)
