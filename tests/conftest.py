"""Root test configuration, loaded before any test module.

yfinance must use `requests` (not curl_cffi) so the `responses` library can replay
recorded Yahoo answers: the switch is read when yfinance is imported, hence here.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

os.environ["YF_DISABLE_CURL_CFFI"] = "1"

from tests.fakes.ollama import FakeOllama
from tests.postgres import Unavailable, new_database, postgres_server
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session (tests/postgres.py): its URL."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except Unavailable as exc:
            pytest.skip(f"PostgreSQL tests skipped: {exc}")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once SQLite and once PostgreSQL: its SQLAlchemy URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ert.sqlite3'}"
    server: str = request.getfixturevalue("postgres")
    return new_database(server).replace("postgresql://", "postgresql+psycopg://")
