"""Replay recorded Yahoo Finance responses through the real yfinance, offline.

The recordings live in the shared fixtures folder (``../shared/fixtures/yahoo``
next to the repository; override with ``ERT_YAHOO_FIXTURES``). yfinance must
talk through ``requests`` for this to work, so ``YF_DISABLE_CURL_CFFI=1`` has to
be set before yfinance is imported: the root ``tests/conftest.py`` does that.

API::

    from tests.fakes.yahoo import replay_yahoo, recorded_tickers, quote_summary, raw, fundamentals
    from tests.fakes.yahoo import offline_env

    with replay_yahoo(delay=0.0) as yahoo:      # yahoo: YahooReplay
        yf.Ticker("AAPL").info                  # answered from quoteSummary-all-AAPL.json
        yahoo.calls                             # ["quoteSummary/AAPL", "quote/AAPL", ...]
        yahoo.count("chart")                    # upstream calls to one endpoint
        yahoo.fail("quoteSummary", status=429)  # from now on that endpoint answers 429
        yahoo.fail("chart", exception=requests.ConnectionError("refused"), ticker="AAPL")
        yahoo.fail("timeseries", delay=2.0)     # answer late instead of failing
        yahoo.fail("quoteSummary", status=429, times=2)  # the next two calls only
        yahoo.fail("quoteSummary", status=200, body={...})  # a broken or partial answer
        yahoo.fail("quoteSummary", status=429, module="earningsTrend")  # only calls asking it
        yahoo.count("quoteSummary", "AAPL", module="financialData")  # the info calls only
        yahoo.recommend("AAPL", ["CRM", "SPOT"])  # Yahoo's similar companies for AAPL

    quote_summary("AAPL")["financialData"]      # the recorded modules, to check against
    raw({"raw": 0.05, "fmt": "5.00%"})          # 0.05
    fundamentals("AAPL", "annual", "TotalRevenue")  # {"2024-09-30": 391035000000, ...}

Endpoints: ``cookie`` (fc.yahoo.com), ``crumb``, ``quoteSummary``, ``quote`` (v7),
``timeseries`` (fundamentals), ``chart`` (v8 prices), ``search``, ``recommendations``
(v6 recommendationsbysymbol). The recordings hold no recommendationsbysymbol answer,
so the replay answers it in Yahoo's shape with the symbols a test gave `recommend`,
and with an empty list for any other recorded symbol (an unknown one: no result).
Every data answer waits ``delay`` seconds first (a slow upstream; cookie and crumb
answer at once, as yfinance caches them in production). A symbol with no
recording is answered the way Yahoo answers an unknown symbol (404 or empty
result), so unknown tickers can be tested too. ``YFINANCE_PANDAS_NOISE`` is a
warning filter for yfinance's pandas deprecation noise. ``recorded_tickers()`` lists the
symbols that have a quoteSummary recording; ``offline_env(os.environ)`` is the
environment of a server process that cannot reach Yahoo at all (no replay in another
process: the network itself fails). The cookie and crumb endpoints are
not counted in ``calls``. yfinance keeps cookies, a crumb and an in-memory
response cache in a process-wide singleton: ``replay_yahoo`` clears that cache
on entry and exit so tests do not see each other's answers.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

import responses

Endpoint = Literal[
    "cookie", "crumb", "quoteSummary", "quote", "timeseries", "chart", "search", "recommendations"
]

REPO_ROOT = Path(__file__).resolve().parents[2]

# yfinance 1.7 still calls pandas with inplace=..., which pandas 3.1 deprecates; not ours.
# Use as `pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)`.
YFINANCE_PANDAS_NOISE = "ignore:The inplace keyword:DeprecationWarning"


def offline_env(base: Mapping[str, str]) -> dict[str, str]:
    """`base` for a server process that cannot reach Yahoo, as on a machine without network.

    Every HTTPS request goes through a proxy whose name never resolves (RFC 6761
    `.invalid`), so yfinance fails to look a name up, online or not; loopback stays direct
    (the GPU tier, the fake Ollama). yfinance uses curl_cffi, as in production.
    """
    env = {k: v for k, v in base.items() if k != "YF_DISABLE_CURL_CFFI"}
    return {
        **env,
        "HTTPS_PROXY": "http://no-network.invalid:3128",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def fixtures_dir() -> Path:
    """The folder of recorded Yahoo responses."""
    configured = os.environ.get("ERT_YAHOO_FIXTURES")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures" / "yahoo"


@cache
def _load(name: str) -> dict[str, Any] | None:
    path = fixtures_dir() / name
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["response"]


def recording(name: str) -> dict[str, Any] | None:
    """The recorded JSON body of one fixture file (e.g. ``quote-AAPL.json``), or None."""
    response = _load(name)
    return None if response is None else response.get("json")


def quote_summary(ticker: str) -> dict[str, Any]:
    """Every recorded quoteSummary module of a ticker: {module: {...}}."""
    body = recording(f"quoteSummary-all-{ticker}.json")
    assert body is not None, ticker
    result: dict[str, Any] = body["quoteSummary"]["result"][0]
    return result


def raw(value: Any) -> Any:
    """A recorded value without Yahoo's formatting ({"raw": 0.05, "fmt": "5.00%"} -> 0.05)."""
    return value["raw"] if isinstance(value, dict) and "raw" in value else value


def fundamentals(ticker: str, frequency: str, name: str) -> dict[str, float]:
    """{period end: value} of one recorded fundamentals series, e.g. AAPL's
    ("quarterly", "FreeCashFlow"); the "all" recordings hold every series."""
    body = recording(f"fundamentalsTimeSeries-{ticker}-all-{frequency}.json")
    assert body is not None, (ticker, frequency)
    key = f"{frequency}{name}"
    for result in body["timeseries"]["result"]:
        if result["meta"]["type"][0] == key and key in result:
            return {x["asOfDate"]: x["reportedValue"]["raw"] for x in result[key] if x}
    raise KeyError(key)


def recorded_tickers() -> list[str]:
    """Symbols with a full quoteSummary recording, sorted."""
    return sorted(
        p.name.removeprefix("quoteSummary-all-").removesuffix(".json")
        for p in fixtures_dir().glob("quoteSummary-all-*.json")
    )


def _chart_body(ticker: str) -> dict[str, Any] | None:
    """The recorded chart with the most price rows for a ticker (any date range)."""
    best: tuple[int, dict[str, Any]] | None = None
    for path in fixtures_dir().glob(f"*chart-{ticker}*.json"):
        body = recording(path.name)
        if not body or "chart" not in body:
            continue
        result = (body["chart"].get("result") or [{}])[0]
        if result.get("meta", {}).get("dataGranularity") != "1d":
            continue
        rows = len(result.get("timestamp") or [])
        if best is None or rows > best[0]:
            best = (rows, body)
    return None if best is None else best[1]


def _timeseries_body(ticker: str, types: list[str]) -> dict[str, Any]:
    """Merge every fundamentals recording for the ticker; types without data get meta only.

    yfinance keeps only the series it asked for, so serving a superset is faithful.
    """
    by_type: dict[str, dict[str, Any]] = {}
    for path in sorted(fixtures_dir().glob(f"fundamentalsTimeSeries-{ticker}-*.json")):
        body = recording(path.name) or {}
        for series in body.get("timeseries", {}).get("result") or []:
            name = series["meta"]["type"][0]
            if name in series:
                by_type[name] = series
    result = [by_type.get(name, {"meta": {"symbol": [ticker], "type": [name]}}) for name in types]
    return {"timeseries": {"result": result, "error": None}}


def _not_found(kind: str, ticker: str) -> tuple[int, dict[str, Any]]:
    description = f"Quote not found for symbol: {ticker}"
    if kind == "chart":
        return 404, {
            "chart": {"result": None, "error": {"code": "Not Found", "description": description}}
        }
    return 404, {kind: {"result": None, "error": {"code": "Not Found", "description": description}}}


@dataclass
class _Failure:
    endpoint: Endpoint
    ticker: str | None
    status: int | None
    exception: Exception | None
    delay: float
    body: Any
    times: int | None
    module: str | None


@dataclass
class YahooReplay:
    """A running replay: what was asked, and failures to inject."""

    delay: float = 0.0
    calls: list[str] = field(default_factory=list)
    _modules: list[frozenset[str]] = field(default_factory=list)  # per call, quoteSummary's
    _failures: list[_Failure] = field(default_factory=list)
    _recommended: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        endpoint: Endpoint,
        *,
        status: int | None = None,
        exception: Exception | None = None,
        delay: float = 0.0,
        body: Any = None,
        ticker: str | None = None,
        times: int | None = None,
        module: str | None = None,
    ) -> None:
        """Make an endpoint (for one ticker, or all; for quoteSummary, only the calls that
        ask for `module` if given) answer `status` (with `body`), raise, or answer late;
        for the next `times` calls only, or for good. The latest wins."""
        with self._lock:
            self._failures.append(
                _Failure(endpoint, ticker, status, exception, delay, body, times, module)
            )

    def recommend(self, ticker: str, symbols: list[str]) -> None:
        """Yahoo's similar companies for `ticker`, as recommendationsbysymbol answers them."""
        with self._lock:
            self._recommended[ticker] = list(symbols)

    def count(
        self, endpoint: Endpoint | None = None, ticker: str | None = None, module: str | None = None
    ) -> int:
        """How many upstream calls were made (to one endpoint / for one ticker / asking
        quoteSummary for one module)."""
        with self._lock:
            return sum(
                1
                for call, modules in zip(self.calls, self._modules, strict=True)
                if (endpoint is None or call.split("/")[0] == endpoint)
                and (ticker is None or call.split("/", 1)[-1] == ticker)
                and (module is None or module in modules)
            )

    def _failure_for(
        self, endpoint: Endpoint, ticker: str, modules: frozenset[str]
    ) -> _Failure | None:
        with self._lock:
            for failure in reversed(self._failures):
                if failure.endpoint != endpoint or failure.ticker not in (None, ticker):
                    continue
                if failure.module is not None and failure.module not in modules:
                    continue
                if failure.times is None:
                    return failure
                if failure.times > 0:
                    failure.times -= 1
                    return failure
        return None

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        endpoint, ticker = _classify(request.url)
        modules = _modules(request.url) if endpoint == "quoteSummary" else frozenset()
        if endpoint not in ("cookie", "crumb"):
            with self._lock:
                self.calls.append(f"{endpoint}/{ticker}")
                self._modules.append(modules)
            time.sleep(self.delay)
        failure = self._failure_for(endpoint, ticker, modules)
        if failure is not None:
            time.sleep(failure.delay)
            if failure.exception is not None:
                raise failure.exception
            if failure.status is not None:
                text = (
                    ("Too Many Requests" if failure.status == 429 else "")
                    if failure.body is None
                    else json.dumps(failure.body)
                )
                return failure.status, {"Content-Type": "application/json"}, text
        if endpoint == "recommendations":
            status, body = 200, self._recommendations(ticker)
        else:
            status, body = _recorded_answer(endpoint, ticker, request.url)
        text = body if isinstance(body, str) else json.dumps(body)
        return status, {"Content-Type": "application/json;charset=utf-8"}, text

    def _recommendations(self, ticker: str) -> dict[str, Any]:
        """recommendationsbysymbol's answer: scores fall with the rank, as Yahoo's do."""
        with self._lock:
            symbols = self._recommended.get(ticker)
        if symbols is None and ticker not in recorded_tickers():
            return {"finance": {"result": [], "error": None}}
        recommended = [
            {"symbol": symbol, "score": round(0.3 - 0.02 * rank, 6)}
            for rank, symbol in enumerate(symbols or [])
        ]
        result = {"symbol": ticker, "recommendedSymbols": recommended}
        return {"finance": {"result": [result], "error": None}}


def _modules(url: str) -> frozenset[str]:
    """The quoteSummary modules a request asks for."""
    asked = parse_qs(urlparse(url).query).get("modules", [""])[0]
    return frozenset(module for module in asked.split(",") if module)


def _classify(url: str) -> tuple[Endpoint, str]:
    parsed = urlparse(url)
    path = unquote(parsed.path)
    query = parse_qs(parsed.query)
    if "getcrumb" in path:
        return "crumb", ""
    if "/finance/search" in path:
        return "search", query.get("q", [""])[0]
    if "/v7/finance/quote" in path:
        return "quote", query.get("symbols", [""])[0]
    for marker, endpoint in (
        ("quoteSummary/", "quoteSummary"),
        ("timeseries/", "timeseries"),
        ("chart/", "chart"),
        ("recommendationsbysymbol/", "recommendations"),
    ):
        if marker in path:
            return endpoint, path.rsplit("/", 1)[-1]  # type: ignore[return-value]
    return "cookie", ""


def _recorded_answer(endpoint: Endpoint, ticker: str, url: str) -> tuple[int, Any]:
    if endpoint == "cookie":
        return 200, ""
    if endpoint == "crumb":
        return 200, "replayed-crumb"
    if endpoint == "quoteSummary":
        body = recording(f"quoteSummary-all-{ticker}.json")
        return (200, body) if body else _not_found("quoteSummary", ticker)
    if endpoint == "quote":
        body = recording(f"quote-{ticker}.json")
        return 200, body or {"quoteResponse": {"result": [], "error": None}}
    if endpoint == "timeseries":
        types = parse_qs(urlparse(url).query).get("type", [""])[0].split(",")
        return 200, _timeseries_body(ticker, [t for t in types if t])
    if endpoint == "chart":
        body = _chart_body(ticker)
        return (200, body) if body else _not_found("chart", ticker)
    body = recording(f"search-{ticker}.json")
    return 200, body or {"count": 0, "quotes": [], "news": [], "nav": [], "lists": []}


@cache
def _use_private_yfinance_cache() -> None:
    import yfinance as yf

    yf.set_tz_cache_location(tempfile.mkdtemp(prefix="ert-yf-cache-"))


def _clear_yfinance_state() -> None:
    """Forget yfinance's process-wide response cache so each replay starts cold."""
    from yfinance.data import YfData

    YfData().cache_get.cache_clear()


@contextmanager
def replay_yahoo(delay: float = 0.0) -> Iterator[YahooReplay]:
    """Answer every Yahoo request from the recordings while the block runs.

    Also points yfinance's timezone and cookie cache at a temporary folder (one per
    process: yfinance keeps connections to it open, so it is never moved mid-run).
    """
    replay = YahooReplay(delay=delay)
    _use_private_yfinance_cache()
    _clear_yfinance_state()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST):
            mock.add_callback(
                method,
                re.compile(r"https?://[^/]*yahoo\.com/.*"),
                callback=lambda request: replay.answer(request),
            )
        try:
            yield replay
        finally:
            _clear_yfinance_state()
