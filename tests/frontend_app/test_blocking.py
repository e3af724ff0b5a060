"""run_blocking: a plain call normally, a real thread under eventlet's monkey-patching."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from frontend_app.blocking import green_library, green_offload, run_blocking

REPO_ROOT = Path(__file__).resolve().parents[2]

# Counts how often a green thread ticks (every 20 ms) while a C-level blocking call
# (the unpatched time.sleep, standing in for curl_cffi) runs with and without the helper.
EVENTLET_PROBE = """
import eventlet
eventlet.monkey_patch()
import json, time
from eventlet.patcher import original
from frontend_app.blocking import green_library, green_offload, run_blocking

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
print(json.dumps({"offload": green_offload() is not None, "library": green_library(),
                  "through_helper": through_helper, "direct": direct}))
"""

def _run(probe: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_green_threads_it_is_a_plain_call_in_this_thread() -> None:
    assert green_offload() is None
    assert green_library() is None
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
    assert result["library"] == "eventlet"
    assert result["through_helper"] >= 10  # ~25 ticks in 0.5 s while the call runs
    assert result["direct"] <= 1  # the same call without the helper freezes everyone


# A whole company fetch under eventlet (parts at once, other clients served, no
# deadlock) is tested in tests/frontend_app/market/test_green_fetch.py.
