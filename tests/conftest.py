"""Root test configuration, loaded before any test module.

yfinance must use `requests` (not curl_cffi) so the `responses` library can replay
recorded Yahoo answers: the switch is read when yfinance is imported, hence here.
"""

import os
from collections.abc import Iterator

import pytest

os.environ["YF_DISABLE_CURL_CFFI"] = "1"

from tests.fakes.ollama import FakeOllama


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
