"""run_blocking: a plain call normally, a real thread under eventlet's monkey-patching."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from frontend_app.blocking import green_offload, run_blocking

REPO_ROOT = Path(__file__).resolve().parents[2]

# Counts how often a green thread ticks (every 20 ms) while a C-level blocking call
# (the unpatched time.sleep, standing in for curl_cffi) runs with and without the helper.
EVENTLET_PROBE = """
import eventlet
eventlet.monkey_patch()
import json, time
from eventlet.patcher import original
from frontend_app.blocking import green_offload, run_blocking

blocking_sleep = original("time").sleep
ticks = []

def tick():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.02)

eventlet.spawn(tick)
eventlet.sleep(0.05)
before = len(ticks)
run_blocking(blocking_sleep, 0.5)
through_helper = len(ticks) - before
before = len(ticks)
blocking_sleep(0.5)
direct = len(ticks) - before
print(json.dumps({"offload": green_offload() is not None,
                  "through_helper": through_helper, "direct": direct}))
"""

SLOW_FETCH_PROBE = """
import os
os.environ["YF_DISABLE_CURL_CFFI"] = "1"
import eventlet
eventlet.monkey_patch()
import json, sys, tempfile, time
from pathlib import Path
from frontend_app.market import MarketDataService
from tests.fakes.yahoo import replay_yahoo

ticks = []

def tick():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.02)

eventlet.spawn(tick)
with replay_yahoo(delay=0.3):
    service = MarketDataService(source="yfinance", snapshot_dir=Path(tempfile.mkdtemp()))
    started = time.monotonic()
    company = service.get_company("AAPL")
    elapsed = time.monotonic() - started
gaps = [gap.part for gap in company.gaps]
longest_pause = max(b - a for a, b in zip(ticks, ticks[1:]))
print(json.dumps({"elapsed": elapsed, "longest_pause": longest_pause, "gaps": gaps}))
"""


def _run(probe: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_green_threads_it_is_a_plain_call_in_this_thread() -> None:
    assert green_offload() is None
    assert run_blocking(threading.get_ident) == threading.get_ident()
    assert run_blocking(lambda a, *, b: a + b, 1, b=2) == 3


def test_exceptions_propagate() -> None:
    def fail() -> None:
        raise KeyError("x")

    try:
        run_blocking(fail)
    except KeyError as error:
        assert error.args == ("x",)
    else:
        raise AssertionError("the exception was swallowed")


def test_under_eventlet_a_blocking_call_does_not_stall_other_green_threads() -> None:
    result = _run(EVENTLET_PROBE)
    assert result["offload"] is True
    assert result["through_helper"] >= 10  # ~25 ticks in 0.5 s while the call runs
    assert result["direct"] <= 1  # the same call without the helper freezes everyone


def test_under_eventlet_a_slow_company_fetch_keeps_other_clients_ticking() -> None:
    result = _run(SLOW_FETCH_PROBE)
    assert result["gaps"] == []
    assert result["elapsed"] >= 0.9  # really slow: info alone is three 0.3 s calls in a row
    assert result["longest_pause"] < 0.3  # yet the green thread never waited long
