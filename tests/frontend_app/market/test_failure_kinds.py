"""Yahoo failures told apart as a person needs them: offline, slow, failing, or unreadable.

In production yfinance talks through curl_cffi (the tests replay through `requests`), so
its errors are made here for real: a name that never resolves (RFC 6761 `.invalid`), a
port nothing listens on, a server that accepts and never answers.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from curl_cffi import requests as curl_requests

from ert_run import free_port
from frontend_app.market.yahoo import classify


def curl_failure(url: str, **options: object) -> BaseException:
    try:
        curl_requests.get(url, timeout=2, **options)
    except Exception as error:
        return error
    raise AssertionError(f"{url} answered")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_a_name_that_cannot_be_looked_up_is_no_network() -> None:
    error = curl_failure("https://query2.finance.yahoo.invalid/v1/finance/search")
    assert classify(error) == ("no_network", "its address could not be looked up")


def test_a_proxy_that_cannot_be_looked_up_is_no_network() -> None:
    error = curl_failure("https://query2.finance.yahoo.com/", proxy="http://proxy.invalid:3128")
    assert classify(error) == ("no_network", "the proxy's address could not be looked up")


def test_a_refused_connection_is_no_network() -> None:
    error = curl_failure(f"http://127.0.0.1:{free_port()}/")
    assert classify(error) == ("no_network", "the connection was refused or cut")


def test_a_server_that_never_answers_is_a_timeout(silent_port: int) -> None:
    try:
        curl_requests.get(f"http://127.0.0.1:{silent_port}/", timeout=0.5)
    except Exception as error:
        assert classify(error) == ("timeout", "the connection timed out")
    else:
        raise AssertionError("a silent server answered")


def test_requests_timeouts_and_lookups_are_told_apart(silent_port: int) -> None:
    with pytest.raises(requests.Timeout) as slow:
        requests.get(f"http://127.0.0.1:{silent_port}/", timeout=0.5)
    assert classify(slow.value)[0] == "timeout"
    with pytest.raises(requests.ConnectionError) as lookup:
        requests.get("https://query2.finance.yahoo.invalid/", timeout=2)
    assert classify(lookup.value) == ("no_network", "its address could not be looked up")


def test_an_answer_without_a_status_is_not_read_as_one() -> None:
    """curl_cffi attaches a response with status 0 to a failed transfer."""
    error = curl_failure("https://query2.finance.yahoo.invalid/")
    assert error.response.status_code == 0
    assert classify(error)[0] == "no_network"
