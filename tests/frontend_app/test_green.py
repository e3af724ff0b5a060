"""run_blocking (frontend_app.green): a plain call normally, a real thread under eventlet."""

from __future__ import annotations

import threading

from frontend_app.green import green_library, green_offload, run_blocking
from tests.fakes.green_probe import run_probe

# Counts how often a green thread ticks (every 20 ms) while a C-level blocking call
# (the unpatched time.sleep, standing in for curl_cffi) runs with and without the helper.
EVENTLET_PROBE = """
import eventlet
eventlet.monkey_patch()
import json, time
from eventlet.patcher import original
from frontend_app.green import green_library, green_offload, run_blocking
from tests.fakes.green_probe import start_ticking

blocking_sleep = original("time").sleep
ticks = start_ticking()
before = len(ticks)
run_blocking(blocking_sleep, 0.5)
through_helper = len(ticks) - before
before = len(ticks)
blocking_sleep(0.5)
direct = len(ticks) - before
print(json.dumps({"offload": green_offload() is not None, "library": green_library(),
                  "through_helper": through_helper, "direct": direct}))
"""


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
    result = run_probe(EVENTLET_PROBE)
    assert result["offload"] is True
    assert result["library"] == "eventlet"
    assert result["through_helper"] >= 10  # ~25 ticks in 0.5 s while the call runs
    assert result["direct"] <= 1  # the same call without the helper freezes everyone


# A whole company fetch under eventlet (parts at once, other clients served, no
# deadlock) is tested in tests/frontend_app/market/test_green_fetch.py.
