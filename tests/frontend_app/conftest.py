"""Fixtures for the dashboard: apps on a temporary database, Socket.IO test clients that
wait for events, and a real GPU tier (vast_ai on uvicorn) in front of the fake Ollama."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from ert_run import Tier, free_port, start_dashboard, wait_healthy
from frontend_app import create_app
from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama, Reply, refused_url
from tests.fakes.tls import TlsRecorder, tls_files
from vast_ai.app import create_app as create_gpu_tier
from vast_ai.settings import Settings as GpuTierSettings

API_KEY = "ert-dashboard-test-key-0123456789abcdef"
# Every fallback step off, market data from the bundled snapshots: each test turns on what it needs.
BASE_ENV = {
    "SECRET_KEY": "test-secret",
    "ERT_DATA_SOURCE": "snapshot",
    "REMOTE_LLM_INTEGRATION": "false",
    "OLLAMA_INTEGRATION": "false",
    "OPENAI_INTEGRATION": "false",
    "ERT_LLM_TIMEOUT": "10",
}


@pytest.fixture(scope="session")
def gpu_tier(ollama_session: FakeOllama) -> Iterator[str]:
    """vast_ai's real app on uvicorn on 127.0.0.1, in front of the fake Ollama: its URL."""
    settings = GpuTierSettings(
        ert_api_key=API_KEY,
        ert_engine="ollama",
        ollama_host=ollama_session.url,
        ert_generation_timeout=20.0,
    )
    with serve(create_gpu_tier(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def tls_gpu_tier(
    ollama_session: FakeOllama, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The GPU tier over HTTPS with a certificate of its own, as on Vast.ai: (URL, fingerprint)."""
    settings = GpuTierSettings(
        ert_api_key=API_KEY,
        ert_engine="ollama",
        ollama_host=ollama_session.url,
        ert_generation_timeout=20.0,
    )
    with (
        tls_files(tmp_path_factory) as (pin, files),
        serve(create_gpu_tier(settings), **files) as url,
    ):
        yield url, pin


@pytest.fixture
def impostor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRecorder]:
    """A TLS server with another certificate, recording every byte it is sent."""
    with tls_files(tmp_path_factory) as (_, files), TlsRecorder(**files) as server:
        yield server


@pytest.fixture
def make_app(tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """`make_app(**env)`: a dashboard on its own SQLite file; BASE_ENV plus `env`."""
    apps: list[Flask] = []

    def make(**env: str) -> Flask:
        database = tmp_path / f"ert-{len(apps)}.sqlite3"
        app = create_app({**BASE_ENV, "DATABASE_URL": f"sqlite:///{database}", **env})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["ert"].close()


# A dashboard other machines can reach, so sign-in is required (gunicorn.conf.py would set it).
EXPOSED = {"ERT_BIND": "0.0.0.0:5000"}
PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def sign_in(app: Flask, email: str, password: str = PASSWORD) -> tuple[FlaskClient, str]:
    """A browser signed in as `email` (made if new): its test client and its CSRF token."""
    accounts = app.extensions["ert"].accounts
    if email not in [a.email for a in accounts.all()]:
        accounts.add(email, PASSWORD)
    http = app.test_client()
    form = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None, form
    answer = http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token[1]}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = http.get("/").get_data(as_text=True)
    csrf = _TOKEN.search(page)
    assert csrf is not None
    return http, csrf[1]


def pinned_env(url: str, pin: str) -> dict[str, str]:
    """The dashboard's settings for a GPU tier over TLS with its certificate pinned."""
    return {
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": url,
        "ERT_LLM_TLS_FINGERPRINT": pin,
        "ERT_LLM_API_KEY": API_KEY,
    }


def silent_model(ollama: FakeOllama, seconds: float = 20) -> None:
    """The model says nothing for `seconds`: a report holds its slot (and its GPU slot)."""
    ollama.reply = Reply(text="Revenue grew.", first_byte_delay=seconds)


@pytest.fixture
def remote_env(gpu_tier: str) -> dict[str, str]:
    return {
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": gpu_tier,
        "ERT_LLM_API_KEY": API_KEY,
    }


@pytest.fixture
def down_url() -> str:
    return refused_url()


class Watcher:
    """A Socket.IO test client that remembers every event and can wait for one."""

    def __init__(self, app: Flask, http: FlaskClient | None = None) -> None:
        """`http`: a signed-in browser's test client, whose cookie the socket sends."""
        socketio = app.extensions["socketio"]
        self.client: SocketIOTestClient = socketio.test_client(app, flask_test_client=http)
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, name: str, data: Any) -> Any:
        return self.client.emit(name, data, callback=True)

    def poll(self) -> None:
        for packet in self.client.get_received():
            self.events.append((packet["name"], packet["args"][0]))

    def wait_for(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 15.0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            for event_name, payload in self.events:
                if event_name == name and predicate(payload):
                    return payload
            if time.monotonic() > deadline:
                seen = [(n, p.get("stage"), p.get("message")) for n, p in self.events]
                raise AssertionError(f"no {name!r} event within {timeout} s; saw {seen}")
            time.sleep(0.01)

    def wait_done(self, job_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The job's terminal event: completed or failed."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            for name, payload in self.events:
                if name in ("completed", "failed") and payload.get("job_id") == job_id:
                    return {"event": name, **payload}
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} did not end within {timeout} s")
            time.sleep(0.01)

    def of(self, job_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The job's events as the browser keeps them: any `seq` already seen is dropped."""
        self.poll()
        kept, last = [], 0
        for name, payload in self.events:
            if payload.get("job_id") == job_id and payload["seq"] > last:
                kept.append((name, payload))
                last = payload["seq"]
        return kept


@pytest.fixture
def watcher() -> Callable[[Flask], Watcher]:
    return Watcher


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator[Any]:
    """`start_gunicorn(host=..., wait=True, **env)`: a dashboard exactly as Render starts it
    (gunicorn, eventlet worker), on a free port, on its own SQLite file; BASE_ENV plus `env`."""
    started: list[tuple[Tier, Path]] = []

    def start(host: str = "127.0.0.1", wait: bool = True, **env: str) -> Tier:
        log = tmp_path / f"gunicorn-{len(started)}.log"
        full_env = {
            **os.environ,
            **BASE_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / f'g{len(started)}.sqlite3'}",
            **env,
        }
        tier = start_dashboard(full_env, port=free_port(), log=log, host=host)
        started.append((tier, log))
        if wait:
            wait_healthy(tier, timeout=30)
        return tier

    yield start
    for tier, log in started:
        tier.stop()
        assert API_KEY not in log.read_text(errors="replace")  # the key never reaches the logs
