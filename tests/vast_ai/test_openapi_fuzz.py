"""Schemathesis over the OpenAPI schema: generated requests, valid and not, never get a 5xx.

The schema is loaded when the module is imported (schemathesis's fixture-based loader
does not work with pytest 9), so this module runs its own fake Ollama from import on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.fakes.ollama import FakeOllama
from tests.vast_ai.conftest import API_KEY, AUTH
from vast_ai.app import create_app
from vast_ai.settings import Settings

OLLAMA = FakeOllama().__enter__()
APP = create_app(
    Settings(
        ert_api_key=API_KEY,
        ollama_host=OLLAMA.url,
        ert_allowed_models="gpt-oss:20b,llama3.1:8b",
        ert_max_queue=100,
    )
)
# The schema, like every path but /health, needs the key.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers=AUTH)


@pytest.fixture(scope="module", autouse=True)
def _stop_fake_ollama() -> Iterator[None]:
    yield
    OLLAMA.__exit__(None, None, None)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers=AUTH, checks=[not_a_server_error, status_code_conformance, content_type_conformance]
    )
