"""Several GPU tiers (ERT_LLM_BACKEND_URL lists them) as one step of the fallback chain.

Each report goes to the tier with the most free slots, as each tier's /health queue
figures say just before it starts (limit minus active minus waiting; a tie goes to the
tier listed first). A tier that does not answer, refuses the key or shows another
certificate is skipped for SKIP_SECONDS and the next one is used; each switch is
announced like the chain's fallbacks. When no tier can write, the chain goes on to its
next step. With one tier the dashboard uses RemoteGpuTier alone, exactly as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

from vast_ai.schemas import ModelsResponse, ReportRequest

from .base import Cancelled, IntegrationError, Notice, Restart, WriterEvent, Writing
from .remote import RemoteGpuTier

log = logging.getLogger(__name__)

# Seconds a tier that failed is left out before it is asked again.
SKIP_SECONDS = 30.0
# Failures that are the tier's, not the request's: another tier may well succeed.
_TIER_REFUSED = {"unauthorized", "certificate_refused"}
# The order in which one tier's state stands for all of them on the status light.
_BEST_FIRST = ("healthy", "degraded", "unhealthy")


class GpuTiers:
    name = "remote"
    label = "the GPU tiers"

    def __init__(
        self, tiers: Sequence[RemoteGpuTier], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if len(tiers) < 2:
            raise ValueError("GpuTiers is for two GPU tiers or more")
        self.tiers = list(tiers)
        self.base_url = ", ".join(tier.base_url for tier in self.tiers)
        self._clock = clock
        self._skipped_until: dict[int, float] = {}
        self._lock = threading.Lock()

    def tier_label(self, tier: RemoteGpuTier) -> str:
        return f"GPU tier {self.tiers.index(tier) + 1} ({tier.base_url})"

    @property
    def slots(self) -> int | None:
        """Reports the tiers that are not skipped run at once, as their /health said last."""
        known = [tier.slots for tier in self._available() if tier.slots is not None]
        return sum(known) if known else None

    def write(self, request: ReportRequest, cancelled: Cancelled) -> Writing:
        order = yield from self._by_free_slots()
        for place, tier in enumerate(order):
            try:
                return (yield from tier.write(request, cancelled))
            except IntegrationError as exc:
                if not (exc.retryable or exc.code in _TIER_REFUSED):
                    raise  # the request's fault (invalid, too large...): no tier would do better
                self._skip(tier, exc.code)
                if place == len(order) - 1:
                    raise
                following = self.tier_label(order[place + 1])
                yield Notice(f"{self.tier_label(tier)}: {exc.message}. Trying {following}.")
                yield Restart()
        raise IntegrationError(
            "backend_unreachable",
            f"No GPU tier can write now ({len(self.tiers)} are skipped for a while after failing)",
            retryable=True,
        )

    def _by_free_slots(self) -> Generator[WriterEvent, None, list[RemoteGpuTier]]:
        """The tiers that are not skipped and answer their /health, most free slots first;
        those that do not answer are skipped from now on, and said so."""
        ranked: list[tuple[int, int, RemoteGpuTier]] = []
        for tier in self._available():
            queue = tier.queue()
            if queue is None:
                self._skip(tier, "no_health")
                yield Notice(
                    f"{self.tier_label(tier)} does not answer; "
                    f"it is left out for {SKIP_SECONDS:.0f} s"
                )
                continue
            free = queue.limit - queue.active - queue.waiting
            ranked.append((-free, self.tiers.index(tier), tier))
        return [tier for _, _, tier in sorted(ranked, key=lambda r: (r[0], r[1]))]

    def _available(self) -> list[RemoteGpuTier]:
        now = self._clock()
        with self._lock:
            return [
                tier
                for index, tier in enumerate(self.tiers)
                if self._skipped_until.get(index, 0.0) <= now
            ]

    def _skip(self, tier: RemoteGpuTier, why: str) -> None:
        log.warning("GPU tier %s skipped for %.0f s (%s)", tier.base_url, SKIP_SECONDS, why)
        with self._lock:
            self._skipped_until[self.tiers.index(tier)] = self._clock() + SKIP_SECONDS

    def health(self) -> dict[str, Any]:
        """Each tier's health (`tiers`, in the listed order, each with its `url`); the best
        one's fields stand for all of them, for what reads one GPU tier's health."""
        tiers = [{**tier.health(), "url": tier.base_url} for tier in self.tiers]
        rank = {status: place for place, status in enumerate(_BEST_FIRST)}
        best = min(tiers, key=lambda h: rank.get(str(h.get("status")), len(rank)))
        return {**best, "tiers": tiers}

    def models(self) -> ModelsResponse | None:
        """The first tier's model list that answers (the tiers are meant to serve the same)."""
        for tier in self._available():
            answer = tier.models()
            if answer is not None:
                return answer
        return None

    def close(self) -> None:
        for tier in self.tiers:
            tier.close()


# What the dashboard holds for the chain's first step: one GPU tier, or several.
GpuTier = RemoteGpuTier | GpuTiers
