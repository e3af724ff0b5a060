"""Headless Debian Chromium (Playwright) against both tiers started as `make run` starts them.

The GPU tier is `uvicorn vast_ai.app:app` in front of the fake Ollama, the dashboard is
gunicorn with the eventlet worker. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ert_run import (
    ROOT,
    Tier,
    dashboard_env,
    free_port,
    gpu_tier_env,
    start_dashboard,
    start_gpu_tier,
    wait_healthy,
)
from generate_api_key import generate_api_key
from tests.fakes.ollama import FakeOllama

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def both_tiers(
    ollama: FakeOllama, tmp: Path, base: Mapping[str, str] = os.environ, **dashboard: str
) -> Iterator[dict[str, Any]]:
    """The GPU tier and the dashboard (environment `base` plus `dashboard`): the dashboard's
    URL, database and log, the GPU tier's URL and key."""
    key = generate_api_key()
    gpu_env = gpu_tier_env(key, {**os.environ, "OLLAMA_HOST": ollama.url}, engine="ollama")
    gpu = start_gpu_tier(gpu_env, port=free_port(), log=tmp / "gpu.log")
    tiers: list[Tier] = [gpu]
    database = f"sqlite:///{tmp / 'dashboard.sqlite3'}"
    try:
        wait_healthy(gpu, timeout=60)
        env = dashboard_env(key, gpu.url, {**base, "DATABASE_URL": database, **dashboard})
        tier = start_dashboard(env, port=free_port(), log=tmp / "dashboard.log")
        tiers.append(tier)
        wait_healthy(tier, timeout=60)
        yield {
            "url": tier.url,
            "database": database,
            "log": tmp / "dashboard.log",
            "gpu": gpu.url,
            "key": key,
        }
    finally:
        for started in reversed(tiers):
            started.stop()


@pytest.fixture(scope="module")
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def servers(
    ollama: FakeOllama, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Both tiers of a test module, market data from the bundled snapshots only."""
    with both_tiers(ollama, tmp_path_factory.mktemp("browser"), ERT_DATA_SOURCE="snapshot") as urls:
        yield urls


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
