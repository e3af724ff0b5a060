"""Probes of behaviour under eventlet's monkey-patching, as wsgi.py runs the dashboard.

A probe is a Python script that monkey-patches first, then imports the code under test;
`run_probe` runs it in a fresh interpreter (with a timeout, so a deadlock fails instead
of hanging) and returns the JSON object its last line prints. Inside a probe,
`start_ticking()` starts a green thread that records the time every 20 ms: gaps in it
show when every green thread was frozen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_probe(probe: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=None if env is None else dict(env),
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def start_ticking(interval: float = 0.02) -> list[float]:
    """In a monkey-patched probe: the times a green thread woke, filled as it runs."""
    import eventlet

    ticks: list[float] = []

    def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            eventlet.sleep(interval)

    eventlet.spawn(tick)
    eventlet.sleep(0.05)
    return ticks
