"""Benchmark: report streams spread over two dashboard instances sharing Redis.

The same browsers and fake GPU tier as bench_dashboard_stream.py (each token carries the
time the tier sent it), in one run: first one dashboard as `make run` runs it (no
REDIS_URL), then two dashboards with REDIS_URL set (Socket.IO through Redis's message
queue, the market-data cache and limits in Redis), the browsers spread evenly over them.
Each dashboard runs as on Render (gunicorn, eventlet worker, one process). Redis is a
throwaway Debian redis-server (`make redis`).

Reported for each: token delay p50/p95/max, lost events, peak RSS per instance, tokens
delivered per second; and the throughput of two instances against one. Targets (two
instances): p95 < 250 ms, nothing lost, < 400 MB per instance.

    .venv/bin/python bench/bench_scaled_stream.py            # 300 clients, 1,500 tokens, 100/s
    .venv/bin/python bench/bench_scaled_stream.py --quick    # 20 clients, 300 tokens
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_dashboard_stream import (
    TARGETS,
    arguments,
    dashboard_env,
    start_fake_gpu_tier,
    stream_through,
    targets_met,
)
from ert_run import Tier, free_port, start_dashboard, wait_healthy
from tests.redis_server import RedisServer


def main() -> int:
    args = arguments(__doc__ or "", clients=300)
    tier, tier_port = start_fake_gpu_tier(args)
    tmp = Path(tempfile.mkdtemp(prefix="ert-bench-scaled-"))
    redis = RedisServer(tmp)
    redis.start()
    started: list[Tier] = []

    def dashboards(count: int, **env: str) -> list[Tier]:
        made = []
        for _ in range(count):
            log = tmp / f"dashboard-{len(started)}.log"
            tier_env = {**dashboard_env(args, tier_port, tmp), **env}
            made.append(start_dashboard(tier_env, port=free_port(), log=log))
            started.append(made[-1])
        for dashboard in made:
            wait_healthy(dashboard, timeout=60)
        return made

    try:
        alone = dashboards(1)
        one = stream_through(alone, args)
        alone[0].stop()
        two = stream_through(dashboards(2, REDIS_URL=redis.url), args)
    finally:
        for dashboard in started:
            dashboard.stop()
        redis.stop()
        tier.terminate()
    print(json.dumps({"one_instance": one, "two_instances_on_redis": two}, indent=2))
    ratio = two["tokens_per_second"] / max(one["tokens_per_second"], 1e-9)
    print(f"throughput: two instances {ratio:.2f}x one instance (tokens delivered per second)")
    ok = targets_met(two)
    print(f"targets, two instances ({TARGETS}): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
