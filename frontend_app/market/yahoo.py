"""The live source: every part of a company fetched from Yahoo through yfinance at once.

Each part (info, 5y prices, six statements, seven research parts: estimates,
earnings history, recommendation trend, rating changes, holders, calendar, SEC
filings) is one yfinance call; all run in parallel in a thread pool, each awaited
for at most the per-call timeout. The `info` part decides: unknown ticker, not an
equity, rate limit or network failure end the fetch with an error; any other part
that fails becomes a named gap.

Under a green-threaded server (gunicorn's eventlet worker) the parts still run at
once, and other clients keep being served. The pool's threads are then green
threads of the calling OS thread, and yfinance, with its locks, caches, cookie jar
and loggers (all green after monkey-patching), only ever runs among them. What
blocks is curl_cffi's transfer, and curl_cffi can hand each transfer to the green
library's pool of real OS threads itself: `_cooperative_session` gives yfinance a
curl_cffi session built with `thread=green_library()`. So the upstream calls of
one fetch run in parallel real OS threads, one per call, while the Python around
them (parsing, the per-call timeouts) stays green. Running whole parts in real
threads instead (`run_blocking` per part) deadlocks: green locks contended from
two OS threads never wake their waiter, and yfinance's path takes many of them,
its own and the standard library's (`logging._lock` on every `getLogger`,
http.cookiejar's lock on every request). Without green threads nothing of this
applies: `green_library()` is None and the pool's threads are real threads.
With yfinance's `requests` fallback (YF_DISABLE_CURL_CFFI, as in the tests) the
patched sockets make the calls cooperative without any help.
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import requests
import yfinance as yf
from curl_cffi import CurlECode, CurlError
from curl_cffi.requests import exceptions as curl_exceptions
from yfinance import _http as yf_http
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError, YFTickerMissingError

from frontend_app.green import green_library

from .company import (
    FREQUENCIES,
    STATEMENT_KINDS,
    CompanyData,
    Frequency,
    Gap,
    PriceHistory,
    Scope,
    Statement,
    StatementKind,
    statement_key,
)
from .errors import (
    DataSourceUnreachable,
    MarketDataError,
    NotAnEquity,
    Outage,
    RateLimited,
    UnknownTicker,
)
from .normalise import (
    analysts_from_info,
    prices_from_frame,
    profile_from_info,
    quote_from_info,
    statement_from_frame,
    statistics_from_info,
)
from .normalise_research import RESEARCH_PARTS
from .research import ResearchData
from .search import Match, matches_from_yahoo

# Yahoo's "people also watch" list; yfinance has no accessor for it.
RECOMMENDATIONS_URL = "https://query2.finance.yahoo.com/v6/finance/recommendationsbysymbol/{}"

# yfinance otherwise logs and swallows HTTP errors, leaving an empty answer that looks
# like "no data"; ERT classifies failures itself (rate limit, network, unknown ticker),
# and MarketDataService logs each kind once, so yfinance's warning per request
# ("Cookie/crumb fetch failed ...") is muted, and BeautifulSoup's as yfinance reads
# Yahoo's consent page ("Some characters could not be decoded"); errors still show.
yf.config.debug.hide_exceptions = False
for _library in ("yfinance", "bs4"):
    logging.getLogger(_library).setLevel(logging.ERROR)

Failure = Literal["rate_limited", "not_found", "no_network", "timeout", "yahoo_error", "unreadable"]

_YFINANCE_FREQ: dict[Frequency, str] = {"annual": "yearly", "quarterly": "quarterly"}
_STATEMENT_METHODS: dict[StatementKind, str] = {
    "income": "get_income_stmt",
    "balance": "get_balance_sheet",
    "cashflow": "get_cash_flow",
}


def _statement_call(kind: StatementKind, frequency: Frequency) -> Callable[[yf.Ticker], Any]:
    method, freq = _STATEMENT_METHODS[kind], _YFINANCE_FREQ[frequency]
    return lambda ticker: getattr(ticker, method)(freq=freq)


MARKET_CALLS: dict[str, Callable[[yf.Ticker], Any]] = {
    "info": lambda ticker: ticker.get_info(),
    "prices": lambda ticker: ticker.history(period="5y", interval="1d", auto_adjust=True),
}
STATEMENT_CALLS: dict[str, Callable[[yf.Ticker], Any]] = {
    statement_key(kind, frequency): _statement_call(kind, frequency)
    for kind in STATEMENT_KINDS
    for frequency in FREQUENCIES
}


def _estimates(ticker: yf.Ticker) -> dict[str, Any]:
    """The four views of earningsTrend; one Ticker asks Yahoo once for all of them."""
    names = ("earnings_estimate", "revenue_estimate", "eps_trend", "eps_revisions")
    return {name: getattr(ticker, f"get_{name}")() for name in names}


def _holders(ticker: yf.Ticker) -> dict[str, Any]:
    """Insider trades, insider activity and the ownership breakdown: one request."""
    return {
        "trades": ticker.get_insider_transactions(),
        "activity": ticker.get_insider_purchases(),
        "ownership": ticker.get_major_holders(),
    }


RESEARCH_CALLS: dict[str, Callable[[yf.Ticker], Any]] = {
    "estimates": _estimates,
    "earnings_history": lambda ticker: ticker.get_earnings_history(),
    "recommendation_trend": lambda ticker: ticker.get_recommendations(),
    "rating_changes": lambda ticker: ticker.get_upgrades_downgrades(),
    "holders": _holders,
    "calendar": lambda ticker: ticker.get_calendar(),
    "sec_filings": lambda ticker: ticker.get_sec_filings(),
}


@functools.cache
def _cooperative_session() -> None:
    """Under green threads, make yfinance's curl_cffi transfers run in real OS threads.

    yfinance keeps one session for the whole process (the YfData singleton); this
    replaces it, once and before the first request, with one like yfinance's own
    (Chrome impersonation) that hands every transfer to the green library's thread
    pool. Nothing to do without green threads, or when yfinance talks through
    `requests` (its sockets are patched). Runs in a green thread without yielding,
    so concurrent first fetches cannot both replace the session.
    """
    library = green_library()
    if library is None or not yf_http.HAS_CURL_CFFI:
        return
    YfData(session=yf_http.requests.Session(impersonate="chrome", thread=library))


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from or while handling (urllib3 keeps it in `reason`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        reason = getattr(cause, "reason", None)
        pending += [cause.__cause__, cause.__context__]
        pending += [reason] if isinstance(reason, BaseException) else []


_LOOKUP_FAILED = "its address could not be looked up"
_CURL_NETWORK: dict[int, str] = {
    CurlECode.COULDNT_RESOLVE_HOST: _LOOKUP_FAILED,
    CurlECode.COULDNT_RESOLVE_PROXY: "the proxy's address could not be looked up",
    CurlECode.COULDNT_CONNECT: "the connection was refused or cut",
}


def _network_failure(error: BaseException) -> tuple[Failure, str] | None:
    """no_network or timeout, in words, if `error` is one (curl_cffi's or requests' kind)."""
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return "no_network", _LOOKUP_FAILED
        if isinstance(cause, CurlError) and cause.code in _CURL_NETWORK:
            return "no_network", _CURL_NETWORK[cause.code]
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no_network", "the network is unreachable"
    for cause in _causes(error):
        if isinstance(cause, (requests.Timeout, curl_exceptions.Timeout, TimeoutError)):
            return "timeout", "the connection timed out"
        if isinstance(
            cause, (requests.ConnectionError, curl_exceptions.ConnectionError, ConnectionError)
        ):
            return "no_network", "the connection was refused or cut"
    return None


def classify(error: BaseException) -> tuple[Failure, str]:
    """What kind of failure a yfinance / HTTP exception is, and the detail in words."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    status = status if isinstance(status, int) and status > 0 else None  # 0: no answer at all
    if isinstance(error, YFRateLimitError) or status == 429:
        return "rate_limited", "HTTP 429"
    if status == 404 or isinstance(error, YFTickerMissingError):
        return "not_found", "HTTP 404"
    if status is not None and status >= 500:
        return "yahoo_error", f"HTTP {status}"
    if status is None:
        network = _network_failure(error)
        if network is not None:
            return network
    return "unreadable", type(error).__name__


_GAP_REASONS: dict[Failure, str] = {
    "rate_limited": "Yahoo Finance rate-limited the request",
    "no_network": "Yahoo Finance could not be reached",
    "timeout": "Yahoo Finance did not answer in time",
    "yahoo_error": "Yahoo Finance answered with an error",
    "not_found": "Yahoo Finance has no data for it",
    "unreadable": "Yahoo Finance sent an answer ERT could not read",
}
_RETRYABLE: frozenset[Failure] = frozenset({"rate_limited", "no_network", "timeout", "yahoo_error"})


def _outage_error(error: BaseException) -> MarketDataError:
    """The error a person is shown when Yahoo failed (not for an unknown ticker)."""
    failure, detail = classify(error)
    if failure == "rate_limited":
        return RateLimited()
    outage: Outage = "unreadable" if failure == "not_found" else failure
    return DataSourceUnreachable(outage, detail)


@dataclass(frozen=True)
class StatementBundle:
    """Statements and their gaps, cached longer than quotes."""

    statements: dict[str, Statement]
    gaps: list[Gap]

    @property
    def complete(self) -> bool:
        """True when no statement failed for a reason that asking again could fix."""
        return not any(gap.retryable for gap in self.gaps)


class YahooSource:
    """Fetches CompanyData live from Yahoo Finance."""

    def __init__(
        self,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def fetch(
        self, ticker: str, statements: StatementBundle | None = None, *, scope: Scope = "full"
    ) -> CompanyData:
        """Everything about `ticker` (scope "full"; reuses `statements` instead of fetching
        them if given), or only its info (scope "peer": one call)."""
        _cooperative_session()
        calls: dict[str, Callable[[yf.Ticker], Any]] = {"info": MARKET_CALLS["info"]}
        if scope == "full":
            calls.update(MARKET_CALLS)
            calls.update(RESEARCH_CALLS)
            if statements is None:
                calls.update(STATEMENT_CALLS)
        pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix=f"yahoo-{ticker}")
        try:
            started = time.monotonic()
            futures = {part: pool.submit(self._call, call, ticker) for part, call in calls.items()}
            info = self._info(ticker, futures.pop("info"), started)
            results = {
                part: self._result(part, future, started) for part, future in futures.items()
            }
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self._assemble(ticker, info, results, statements, scope)

    def recommended(self, ticker: str) -> list[str]:
        """The symbols Yahoo recommends as similar to `ticker`, best first ([] if none).

        Asked through yfinance's own data layer (its session, cookies and crumb), as
        yfinance has no accessor for it. Raises RateLimited or DataSourceUnreachable.
        """
        _cooperative_session()
        url = RECOMMENDATIONS_URL.format(urllib.parse.quote(ticker))
        try:
            body = self._call(lambda _: YfData().get_raw_json(url, timeout=self.timeout), ticker)
        except Exception as error:
            if classify(error)[0] == "not_found":
                return []
            raise _outage_error(error) from error
        try:
            results = body["finance"]["result"] or [{}]
            entries = results[0].get("recommendedSymbols") or []
            symbols = [entry.get("symbol") for entry in entries]
        except (TypeError, KeyError, AttributeError, IndexError):
            raise DataSourceUnreachable("unreadable", "similar companies") from None
        return [s for s in dict.fromkeys(symbols) if isinstance(s, str) and s and s != ticker]

    def search(
        self, query: str, bundled: set[str], limit: int = 8, timeout: float | None = None
    ) -> list[Match]:
        """What Yahoo's search finds for `query` (a ticker or a name); DataSourceUnreachable
        or RateLimited when it cannot be asked."""
        _cooperative_session()
        try:
            quotes = yf.Search(
                query,
                max_results=limit,
                news_count=0,
                lists_count=0,
                timeout=timeout or self.timeout,
            ).quotes
        except Exception as error:
            raise _outage_error(error) from error
        return matches_from_yahoo(quotes, bundled)[:limit]

    def _suggestions(self, ticker: str) -> list[Match]:
        """Equities Yahoo's search finds for an unknown `ticker` (none if search fails)."""
        try:
            found = self.search(ticker, bundled=set())
        except MarketDataError:  # suggestions are a courtesy; never fail the error path on them
            return []
        return [m for m in found if m.equity and m.ticker != ticker][:5]

    def _call(self, call: Callable[[yf.Ticker], Any], ticker: str) -> Any:
        """One yfinance call, retried with backoff when rate-limited."""
        attempt = 0
        while True:
            try:
                return call(yf.Ticker(ticker))
            except Exception as error:
                if classify(error)[0] != "rate_limited" or attempt >= self.retries:
                    raise
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

    def _remaining(self, started: float) -> float:
        return max(0.0, started + self.timeout - time.monotonic())

    def _info(self, ticker: str, future: Future[Any], started: float) -> dict[str, Any]:
        try:
            info = future.result(timeout=self._remaining(started))
        except FutureTimeout:
            raise DataSourceUnreachable("timeout", f"no answer within {self.timeout:g} s") from None
        except Exception as error:
            if classify(error)[0] == "not_found":
                raise UnknownTicker(ticker, self._suggestions(ticker)) from error
            raise _outage_error(error) from error
        if not isinstance(info, dict) or not info.get("quoteType"):
            raise UnknownTicker(ticker, self._suggestions(ticker))
        quote_type = str(info["quoteType"]).upper()
        if quote_type != "EQUITY":
            raise NotAnEquity(ticker, quote_type)
        return info

    def _result(self, part: str, future: Future[Any], started: float) -> Any | Gap:
        try:
            return future.result(timeout=self._remaining(started))
        except FutureTimeout:
            future.cancel()
            return Gap(part=part, reason=f"no answer within {self.timeout:g} s", retryable=True)
        except Exception as error:
            failure, _ = classify(error)
            return Gap(part=part, reason=_GAP_REASONS[failure], retryable=failure in _RETRYABLE)

    def _assemble(
        self,
        ticker: str,
        info: dict[str, Any],
        results: dict[str, Any],
        cached: StatementBundle | None,
        scope: Scope,
    ) -> CompanyData:
        quote = quote_from_info(info)
        statistics = statistics_from_info(info)
        gaps: list[Gap] = []
        statements: dict[str, Statement] = {}
        prices = None
        research = ResearchData()
        if scope == "full":
            bundle = cached or self._statements(
                results, statistics.financial_currency or quote.currency
            )
            gaps.extend(bundle.gaps)
            statements = bundle.statements
            prices = self._prices(results["prices"], info, gaps)
            research, research_gaps = self._research(results, info)
            gaps.extend(research_gaps)
        as_of = (quote.market_time or datetime.now(UTC)).date()
        return CompanyData(
            ticker=ticker,
            source="yfinance",
            as_of=as_of,
            source_label=f"Yahoo Finance as of {as_of.isoformat()}",
            fetched_at=datetime.now(UTC),
            profile=profile_from_info(ticker, info),
            quote=quote,
            statistics=statistics,
            analysts=analysts_from_info(info),
            statements=statements,
            prices=prices,
            research=research,
            gaps=sorted(gaps, key=lambda gap: gap.part),
            scope=scope,
        )

    @staticmethod
    def _prices(result: Any, info: dict[str, Any], gaps: list[Gap]) -> PriceHistory | None:
        if isinstance(result, Gap):
            gaps.append(result)
            return None
        prices = prices_from_frame(result, info.get("currency"))
        if prices is None:
            gaps.append(Gap(part="prices", reason="Yahoo Finance has no price history"))
        return prices

    @staticmethod
    def _research(results: dict[str, Any], info: dict[str, Any]) -> tuple[ResearchData, list[Gap]]:
        """The research parts that answered; the others as gaps.

        yfinance raises on a module Yahoo does not send (no SEC filings outside the
        US, no rating history), so an unreadable research answer counts as "none".
        """
        fields: dict[str, Any] = {}
        gaps: list[Gap] = []
        for part, (description, parse) in RESEARCH_PARTS.items():
            result = results[part]
            missing = Gap(part=part, reason=f"Yahoo Finance has no {description}")
            if isinstance(result, Gap):
                gaps.append(missing if result.reason == _GAP_REASONS["unreadable"] else result)
                continue
            parsed = parse(result, info)
            if any(parsed.values()):
                fields.update(parsed)
            else:
                gaps.append(missing)
        return ResearchData(**fields), gaps

    @staticmethod
    def _statements(results: dict[str, Any], currency: str | None) -> StatementBundle:
        statements: dict[str, Statement] = {}
        gaps: list[Gap] = []
        for kind in STATEMENT_KINDS:
            for frequency in FREQUENCIES:
                part = statement_key(kind, frequency)
                result = results[part]
                if isinstance(result, Gap):
                    gaps.append(result)
                    continue
                statement = statement_from_frame(result, kind, frequency, currency)
                if statement is None:
                    gaps.append(
                        Gap(part=part, reason=f"Yahoo Finance has no {frequency} {kind} statement")
                    )
                else:
                    statements[part] = statement
        return StatementBundle(statements=statements, gaps=gaps)
