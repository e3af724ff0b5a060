"""The dashboard in headless Chromium, against both tiers started as `make run` starts them.

The GPU tier is `uvicorn vast_ai.app:app` in front of the fake Ollama (slow enough to
watch), the dashboard is gunicorn with the eventlet worker; market data comes from the
bundled snapshots. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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
from frontend_app.reports.store import ReportStore
from generate_api_key import generate_api_key
from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.fakes.reports import store_hostile_report

pytestmark = pytest.mark.slow

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
SECTION_TEXT = (
    "Apple's revenue reached $391.0B in fiscal 2024 as services kept growing and the installed "
    "base widened; margins held firm while the company returned cash to shareholders."
)
TEXT_SHOWN = "() => [...document.querySelectorAll('.live-section pre')].some(p => p.textContent)"
HOSTILE = '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> text'


@pytest.fixture(scope="module")
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def servers(
    ollama: FakeOllama, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    key = generate_api_key()
    base = {**os.environ, "OLLAMA_HOST": ollama.url}
    gpu = start_gpu_tier(
        gpu_tier_env(key, base, engine="ollama"), port=free_port(), log=tmp / "gpu.log"
    )
    tiers: list[Tier] = [gpu]
    database = f"sqlite:///{tmp / 'dashboard.sqlite3'}"
    try:
        wait_healthy(gpu, timeout=60)
        env = dashboard_env(
            key, gpu.url, {**os.environ, "ERT_DATA_SOURCE": "snapshot", "DATABASE_URL": database}
        )
        dashboard = start_dashboard(env, port=free_port(), log=tmp / "dashboard.log")
        tiers.append(dashboard)
        wait_healthy(dashboard, timeout=60)
        yield {"url": dashboard.url, "database": database}
    finally:
        for tier in reversed(tiers):
            tier.stop()


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


def slow_replies(ollama: FakeOllama, text: str = SECTION_TEXT, delay: float = 0.12) -> None:
    reply = Reply(text=text, chunk_delay=delay)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else reply


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def canvas_has_pixels(page: Any, canvas_id: str) -> bool:
    return page.evaluate(
        """id => { const c = document.getElementById(id);
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
                   return false; }""",
        canvas_id,
    )


def test_type_generate_watch_it_stream_reload_and_land_on_the_report(servers, page, ollama) -> None:
    slow_replies(ollama)
    page.goto(servers["url"])
    page.wait_for_selector("#backend-status[data-state='healthy']", timeout=20_000)
    page.fill("#ticker", "AAPL")
    page.wait_for_selector("#ticker-hint:has-text('AAPL looks like a ticker')")
    page.click("#generate")

    page.wait_for_selector("#job:not([hidden])")
    page.wait_for_function(
        TEXT_SHOWN,
        timeout=30_000,
    )
    assert page.text_content("#stage") == "generating"
    assert "elapsed" in page.text_content(".stage-line")
    shot(page, "01-dashboard-streaming.png")
    job_id = page.evaluate("() => new URLSearchParams(location.search).get('job')")
    assert job_id

    page.reload()  # mid-generation: the page rejoins the job and gets its text replayed
    page.wait_for_selector("#job:not([hidden])")
    page.wait_for_function(
        TEXT_SHOWN,
        timeout=10_000,
    )
    assert page.evaluate("() => localStorage.getItem('ert.activeJob')") == job_id
    shot(page, "02-dashboard-after-reload.png")

    page.wait_for_url("**/reports/*", timeout=60_000)
    page.wait_for_selector("#chart-price")
    page.wait_for_timeout(500)
    for canvas in ("chart-price", "chart-income", "chart-margins"):
        assert canvas_has_pixels(page, canvas), canvas
    assert "figures verified" in page.text_content(".grounding")
    assert "Not investment advice" in page.text_content(".disclaimer")
    shot(page, "03-report.png")
    assert page.dialogs == []


def test_an_unknown_ticker_shows_the_error_and_suggestions(servers, page) -> None:
    page.goto(servers["url"])
    page.fill("#ticker", "AAPLE")
    page.click("#generate")
    page.wait_for_selector("#suggestions:not([hidden]) button", timeout=20_000)
    assert "No company found" in page.text_content("#message")
    assert "AAPL" in page.text_content("#suggestions")
    shot(page, "04-unknown-ticker.png")


def test_hostile_model_output_runs_nothing_live_or_stored(servers, page, ollama) -> None:
    slow_replies(ollama, text=HOSTILE, delay=0.01)
    page.goto(servers["url"])
    page.fill("#ticker", "AAPL")
    page.click("#generate")
    page.wait_for_url("**/reports/*", timeout=60_000)
    assert page.evaluate("() => window.__pwned") is None

    store = ReportStore(servers["database"])
    stored_id = store_hostile_report(store, HOSTILE, HOSTILE)
    store.dispose()
    page.goto(f"{servers['url']}/reports/{stored_id}")
    page.wait_for_selector("#risks")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert (
        page.query_selector("#risks img") is None and page.query_selector("#risks script") is None
    )
    assert "<script>" in page.text_content("#risks")  # shown as text
    shot(page, "05-hostile-report.png")
    assert page.dialogs == []
