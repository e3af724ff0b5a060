"""The serving process as gunicorn imports it (`wsgi:app`): built, then its start-up
objects left out of the garbage collector's full collections (bench_dashboard_stream:
each one scanned ~365,000 objects, ~250 ms of CPU, twice in a few seconds of streaming)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.frontend_app.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import gc, time, wsgi\n"
    "started = time.thread_time(); gc.collect()\n"
    "print(gc.get_freeze_count(), round((time.thread_time() - started) * 1000))\n"
)


def test_wsgi_freezes_what_it_made_at_start_so_a_full_collection_is_quick(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ert.sqlite3'}",
        "ERT_DATA_SOURCE": "snapshot",
        "REMOTE_LLM_INTEGRATION": "false",
        "ERT_ADMIN_EMAIL": "admin@example.com",
        "ERT_ADMIN_PASSWORD": PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, collect_ms = (int(word) for word in done.stdout.split()[-2:])
    assert frozen > 100_000  # the modules, models and app built at start
    assert collect_ms < 50  # what is left to scan is small
