"""One company fetch under eventlet's monkey-patching (as wsgi.py runs it): all at once.

Each probe runs in a fresh subprocess that monkey-patches first, like wsgi.py, with a
timeout so that a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.fakes.green_probe import run_probe

# Each upstream call answers after CALL_DELAY seconds. A fetch that blocked the hub for
# a call would freeze every green thread that long; the parsing of all the answers
# (one OS thread runs all the Python) freezes them for less, and for longer on a busy
# machine: two seconds keep the two apart, even with other suites running.
CALL_DELAY = 2.0

# Replays Yahoo with CALL_DELAY per call through yfinance's `requests` fallback and counts,
# in the replay's own callback, how many upstream calls are in flight at once, while
# a green thread ticks every 20 ms. `requests` goes through patched sockets and the
# replay's delay is a green sleep, so this shows the fetch completes and overlaps on
# that path; only the curl_cffi probe below tells parallel real threads from a batch.
PARALLEL_FETCH_PROBE = (
    f"CALL_DELAY = {CALL_DELAY}\n"
    + """
import os
os.environ["YF_DISABLE_CURL_CFFI"] = "1"
import eventlet
eventlet.monkey_patch()
import json, tempfile, time, warnings
from pathlib import Path
from eventlet.patcher import original
from frontend_app.market import MarketDataService
from tests.fakes.green_probe import start_ticking
from tests.fakes.yahoo import replay_yahoo

warnings.filterwarnings("ignore")
lock = original("threading").Lock()
in_flight = {"now": 0, "max": 0}
ticks = start_ticking()
with replay_yahoo(delay=CALL_DELAY) as yahoo:
    answer = yahoo.answer

    def counting_answer(request):
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        try:
            return answer(request)
        finally:
            with lock:
                in_flight["now"] -= 1

    yahoo.answer = counting_answer  # the replay's callback looks the method up per call
    service = MarketDataService(source="yfinance", snapshot_dir=Path(tempfile.mkdtemp()))
    before = len(ticks)
    started = time.monotonic()
    company = service.get_company("AAPL")
    ended = time.monotonic()
    calls = list(yahoo.calls)
during = [t for t in ticks if started <= t <= ended]
print(json.dumps({
    "ticker": company.ticker,
    "gaps": [gap.part for gap in company.gaps],
    "statements": sorted(company.statements),
    "calls": calls,
    "max_in_flight": in_flight["max"],
    "ticks_during_fetch": len(during),
    "longest_pause": max(b - a for a, b in zip(ticks, ticks[1:])),
}))
"""
)

# The production path: yfinance over curl_cffi (Chrome impersonation, TLS), whose
# transfers block their OS thread. Every Yahoo host is resolved to a green HTTPS
# server in the same process that answers from the recordings after CALL_DELAY and counts
# the requests in flight. With the whole fetch as one real-thread batch (the old
# design) that count stays at 1; if a transfer blocked the hub, the server could
# never answer at all.
CURL_FETCH_PROBE = (
    f"CALL_DELAY = {CALL_DELAY}\n"
    + """
import os
os.environ.pop("YF_DISABLE_CURL_CFFI", None)
import eventlet
eventlet.monkey_patch()
import json, subprocess, tempfile, time, warnings
from pathlib import Path
from types import SimpleNamespace
import eventlet.wsgi
from curl_cffi import CurlOpt
from curl_cffi import requests as curl_requests
import yfinance as yf
from frontend_app.market import MarketDataService
from tests.fakes.green_probe import start_ticking
from tests.fakes.yahoo import YahooReplay

warnings.filterwarnings("ignore")
work = Path(tempfile.mkdtemp())
yf.set_tz_cache_location(str(work))
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=yahoo.com", "-keyout", str(work / "key.pem"),
                "-out", str(work / "cert.pem")], check=True, capture_output=True)
replay = YahooReplay(delay=CALL_DELAY)
in_flight = {"now": 0, "max": 0}

def app(environ, start_response):
    query = environ.get("QUERY_STRING")
    url = f"https://{environ['HTTP_HOST']}{environ['PATH_INFO']}" + (f"?{query}" if query else "")
    in_flight["now"] += 1
    in_flight["max"] = max(in_flight["max"], in_flight["now"])
    try:
        status, headers, text = replay.answer(SimpleNamespace(url=url))
    finally:
        in_flight["now"] -= 1
    start_response(f"{status} X", list(headers.items()))
    return [text.encode()]

listener = eventlet.wrap_ssl(eventlet.listen(("127.0.0.1", 0)), certfile=str(work / "cert.pem"),
                             keyfile=str(work / "key.pem"), server_side=True)
port = listener.getsockname()[1]
eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False)

YAHOO_HOSTS = ("fc.yahoo.com", "query1.finance.yahoo.com", "query2.finance.yahoo.com",
               "finance.yahoo.com", "guce.yahoo.com", "consent.yahoo.com")

class LocalYahoo(curl_requests.Session):  # what _cooperative_session builds, sent here

    def __init__(self, **kwargs):
        options = {CurlOpt.PORT: port,
                   CurlOpt.RESOLVE: [f"{host}:{port}:127.0.0.1" for host in YAHOO_HOSTS]}
        super().__init__(verify=False, curl_options=options, **kwargs)

curl_requests.Session = LocalYahoo
ticks = start_ticking()
service = MarketDataService(source="yfinance", snapshot_dir=work / "snapshots")
started = time.monotonic()
company = service.get_company("AAPL")
ended = time.monotonic()
print(json.dumps({
    "session": type(yf.data.YfData()._session).__name__,
    "thread": getattr(yf.data.YfData()._session, "_thread", None),
    "gaps": [gap.part for gap in company.gaps],
    "statements": len(company.statements),
    "max_in_flight": in_flight["max"],
    "ticks_during_fetch": len([t for t in ticks if started <= t <= ended]),
    "longest_pause": max(b - a for a, b in zip(ticks, ticks[1:])),
}))
"""
)


def _run(probe: str) -> dict[str, object]:
    """Each probe decides itself whether yfinance may use curl_cffi."""
    env = {key: value for key, value in os.environ.items() if key != "YF_DISABLE_CURL_CFFI"}
    return run_probe(probe, env=env)


def test_under_eventlet_the_parts_of_one_fetch_are_fetched_at_once() -> None:
    result = _run(PARALLEL_FETCH_PROBE)
    assert result["ticker"] == "AAPL"
    assert result["gaps"] == []  # it completed, nothing timed out
    assert len(result["statements"]) == 6
    assert result["max_in_flight"] >= 2  # upstream calls overlapped
    assert result["ticks_during_fetch"] >= 10  # other clients kept being served
    assert result["longest_pause"] < CALL_DELAY  # no green thread waited as long as one call


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a test certificate")
def test_under_eventlet_curl_transfers_of_one_fetch_run_in_parallel_real_threads() -> None:
    result = _run(CURL_FETCH_PROBE)
    assert result["session"] == "LocalYahoo"  # yfinance really talked through curl_cffi
    assert result["thread"] == "eventlet"
    assert result["gaps"] == []  # it completed, nothing timed out
    assert result["statements"] == 6
    assert result["max_in_flight"] >= 2  # the transfers overlapped (all 8 parts: 8)
    assert result["ticks_during_fetch"] >= 10
    assert result["longest_pause"] < CALL_DELAY
