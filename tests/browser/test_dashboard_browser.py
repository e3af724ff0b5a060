"""The dashboard in headless Chromium, against both tiers started as `make run` starts them
(tests/browser/conftest.py); market data comes from the bundled snapshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from ert_run import dashboard_env, free_port, start_dashboard, wait_healthy
from frontend_app.jobs import Job, JobSpec
from frontend_app.jobs.log import JobLog
from frontend_app.market import validate_ticker
from frontend_app.reports.store import ReportStore
from tests.browser.conftest import shot
from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.fakes.reports import store_hostile_report
from tests.fakes.tls import TlsRecorder, tls_files
from vast_ai.tls import fingerprint

pytestmark = pytest.mark.slow

SECTION_TEXT = (
    "Apple's revenue reached $391.0B in fiscal 2024 as services kept growing and the installed "
    "base widened; margins held firm while the company returned cash to shareholders."
)
TEXT_SHOWN = "() => [...document.querySelectorAll('.live-section pre')].some(p => p.textContent)"
HOSTILE = '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> text'


def slow_replies(ollama: FakeOllama, text: str = SECTION_TEXT, delay: float = 0.12) -> None:
    reply = Reply(text=text, chunk_delay=delay)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else reply


def chart_is_drawn(page: Any, key: str) -> bool:
    """The server-drawn chart is in the page, laid out with a size."""
    box = page.locator(f"#chart-{key} svg").bounding_box()
    return box is not None and box["width"] > 300 and box["height"] > 100


def test_type_generate_watch_it_stream_reload_and_land_on_the_report(servers, page, ollama) -> None:
    slow_replies(ollama)
    page.goto(servers["url"])
    page.wait_for_selector("#backend-status[data-state='healthy']", timeout=20_000)
    page.fill("#ticker", "AAPL")
    page.wait_for_selector("#ticker-hint:has-text('AAPL · Apple Inc.')")
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
    page.wait_for_selector("#chart-prices svg")
    for chart in ("prices", "annual", "margins", "football_field"):
        assert chart_is_drawn(page, chart), chart
    assert "figures verified" in page.text_content(".grounding")
    assert "Not investment advice" in page.text_content(".disclaimer")
    shot(page, "03-report.png")
    assert page.dialogs == []


def test_a_ticker_that_is_not_bundled_shows_the_error_and_the_choices(servers, page) -> None:
    page.goto(servers["url"])
    page.fill("#ticker", "AAPLE")
    page.click("#generate")
    page.wait_for_selector("#suggestions:not([hidden]) button", timeout=20_000)
    assert "not one of the companies bundled with ERT" in page.text_content("#ticker-hint")
    assert "Did you mean: AAPL · Apple Inc." in page.text_content("#suggestions")
    assert "Or, offline:" in page.text_content("#suggestions")
    shot(page, "04-not-bundled.png")


def test_hostile_model_output_runs_nothing_live_or_stored(servers, page, ollama) -> None:
    slow_replies(ollama, text=HOSTILE, delay=0.01)
    page.goto(servers["url"])
    page.fill("#ticker", "AAPL")
    page.click("#generate")
    page.wait_for_url("**/reports/*", timeout=60_000)
    assert page.evaluate("() => window.__pwned") is None

    store = ReportStore(create_engine(servers["database"]))  # the dashboard migrated it
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


ADMIN, ADMIN_PASSWORD = "ops@example.com", "correct horse battery staple"


@pytest.fixture(scope="module")
def more_dashboards(
    servers: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Three more dashboards: one with an account (so sign-in is required), one with a key
    the GPU tier refuses, one whose pinned GPU tier is answered by an impostor."""
    tmp = tmp_path_factory.mktemp("more")
    stack = ExitStack()
    _, real = stack.enter_context(tls_files(tmp_path_factory))  # the certificate pinned
    _, other = stack.enter_context(tls_files(tmp_path_factory))
    impostor = stack.enter_context(TlsRecorder(**other))
    base = {**os.environ, "ERT_DATA_SOURCE": "snapshot"}
    signed = dashboard_env(
        servers["key"],
        servers["gpu"],
        {
            **base,
            "DATABASE_URL": f"sqlite:///{tmp / 'signed.sqlite3'}",
            "ERT_ADMIN_EMAIL": ADMIN,
            "ERT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        },
    )
    wrong_key = dashboard_env(
        "ert-" + "x" * 32,
        servers["gpu"],
        {**base, "DATABASE_URL": f"sqlite:///{tmp / 'w.sqlite3'}"},
    )
    pinned = {
        **wrong_key,
        "ERT_LLM_BACKEND_URL": impostor.url,
        "ERT_LLM_TLS_FINGERPRINT": fingerprint(Path(real["ssl_certfile"]).read_text()),
        "DATABASE_URL": f"sqlite:///{tmp / 'p.sqlite3'}",
    }
    tiers = [
        start_dashboard(env, port=free_port(), log=tmp / f"{name}.log")
        for name, env in (("signed", signed), ("wrong-key", wrong_key), ("impostor", pinned))
    ]
    try:
        for tier in tiers:
            wait_healthy(tier, timeout=60)
        yield {"signed": tiers[0].url, "wrong_key": tiers[1].url, "impostor": tiers[2].url}
        assert impostor.received == b""
    finally:
        for tier in tiers:
            tier.stop()
        stack.close()


def test_sign_in_write_a_report_sign_out_and_be_refused(more_dashboards, page, ollama) -> None:
    url = more_dashboards["signed"]
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(url)
    page.wait_for_url("**/login?next=/")
    shot(page, "06-sign-in.png")
    page.fill("#email", ADMIN)
    page.fill("#password", "not the password")
    page.click("#sign-in")
    assert "Wrong e-mail or password" in page.text_content("[role=alert]")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#backend-status[data-state='healthy']", timeout=20_000)
    assert page.text_content(".account-email") == ADMIN

    slow_replies(ollama, delay=0.02)
    page.fill("#ticker", "AAPL")
    page.click("#generate")
    page.wait_for_url("**/reports/*", timeout=60_000)
    report_url = page.url
    assert sockets and all(s.startswith(url.replace("http", "ws")) for s in sockets)
    page.click("#regenerate")  # a POST: the page sends its CSRF token
    page.wait_for_url("**/?job=*", timeout=20_000)
    page.wait_for_selector("#job:not([hidden])")
    shot(page, "07-signed-in-regenerating.png")

    page.click("#sign-out")
    page.wait_for_url("**/login?signed_out=1")
    assert "You are signed out" in page.text_content(".signin")
    page.goto(report_url)
    page.wait_for_url("**/login?next=/reports/*")
    status = page.evaluate("() => fetch('/api/reports').then(r => r.status)")
    assert status == 401
    assert page.dialogs == []


def test_a_key_the_gpu_tier_refuses_turns_the_light_red(more_dashboards, page) -> None:
    page.goto(more_dashboards["wrong_key"])
    light = page.wait_for_selector("#backend-status[data-state='key_refused']", timeout=20_000)
    assert (
        light.text_content().strip() == "The GPU tier refused the API key (check ERT_LLM_API_KEY)"
    )
    color = page.evaluate(
        "() => getComputedStyle(document.querySelector('#backend-status .dot')).backgroundColor"
    )
    assert color == "rgb(231, 76, 60)"  # the red of unreachable
    shot(page, "08-key-refused.png")


def test_an_impostor_in_place_of_the_pinned_gpu_tier_turns_the_light_red(
    more_dashboards, page
) -> None:
    page.goto(more_dashboards["impostor"])
    light = page.wait_for_selector(
        "#backend-status[data-state='certificate_refused']", timeout=20_000
    )
    assert "ERT_LLM_TLS_FINGERPRINT" in light.text_content()
    assert "presented a certificate with fingerprint" in light.get_attribute("title")
    shot(page, "09-certificate-refused.png")


def test_an_interrupted_report_is_written_again_with_one_click_on_retry(
    servers, page, ollama
) -> None:
    slow_replies(ollama, delay=0.01)
    engine = create_engine(servers["database"])  # the dashboard migrated it
    job = Job(spec=JobSpec(validate_ticker("AAPL")))
    job_log = JobLog(engine)
    job_log.add(job)
    stopped = "The server restarted twice while this report was being written; Retry"
    for seq, (name, payload) in enumerate(
        [
            (
                "progress",
                {"stage": "generating", "percent": 40, "message": "Writing", "elapsed": 9},
            ),
            ("token", {"section": "risks", "text": "Rates rise."}),
            (
                "progress",
                {"stage": "interrupted", "percent": 40, "message": stopped, "elapsed": 12},
            ),
            ("failed", {"code": "interrupted", "message": stopped}),
        ],
        start=1,
    ):
        job_log.record(job, seq, name, {"job_id": job.id, **payload, "seq": seq})
    job.last_seq, job.state, job.ended_monotonic = 4, "interrupted", job.started_monotonic
    job_log.changed(job)
    job_log.flush()
    engine.dispose()

    page.goto(f"{servers['url']}/?job={job.id}")  # as the page a person left open reloads
    page.wait_for_selector("#retry", timeout=20_000)
    assert "restarted twice" in page.text_content("#message")
    assert "Rates rise." in page.text_content(".live-section[data-section='risks'] pre")
    shot(page, "06-interrupted-retry.png")
    page.click("#retry")
    page.wait_for_url("**/reports/*", timeout=60_000)
    assert "Apple Inc." in page.text_content("h1")
