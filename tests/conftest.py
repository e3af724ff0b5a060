"""Root test configuration, loaded before any test module.

yfinance must use `requests` (not curl_cffi) so the `responses` library can replay
recorded Yahoo answers: the switch is read when yfinance is imported, hence here.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["YF_DISABLE_CURL_CFFI"] = "1"

from tests.fakes.ollama import FakeOllama
from tests.redis_server import RedisServer


@pytest.fixture(scope="session")
def ollama_session() -> Iterator[FakeOllama]:
    """One fake Ollama server for the whole run (see tests/fakes/ollama.py)."""
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def ollama(ollama_session: FakeOllama) -> Iterator[FakeOllama]:
    """The shared fake Ollama, reset to its defaults before and after the test."""
    ollama_session.reset()
    yield ollama_session
    ollama_session.reset()


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One throwaway redis-server for the whole run (tests/redis_server.py)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_session: RedisServer) -> str:
    """The shared redis-server's URL, emptied before the test."""
    redis_session.flush()
    return redis_session.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which it may stop and start again."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
