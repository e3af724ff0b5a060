"""A newcomer's first minutes, offline, in headless Chromium: a name typed instead of a
ticker, a company that is not bundled, a fund; each message says what to do and offers
the companies that work, one click away.

Both tiers run as `make run` starts them (tests/browser/conftest.py) with market data
in "auto" mode and no way to reach Yahoo (tests.fakes.yahoo.offline_env).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from frontend_app.market.snapshots import SnapshotSource
from tests.browser.conftest import both_tiers, shot
from tests.fakes.ollama import FakeOllama, default_responder
from tests.fakes.yahoo import offline_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def offline(ollama: FakeOllama, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ollama.responder = default_responder
    tmp = tmp_path_factory.mktemp("offline")
    with both_tiers(ollama, tmp, offline_env(os.environ), ERT_DATA_SOURCE="auto") as urls:
        yield urls


def choice(page: Any, ticker: str) -> Any:
    return page.wait_for_selector(
        f"#suggestions:not([hidden]) button[data-ticker='{ticker}']", timeout=20_000
    )


def test_a_name_finds_the_company_and_one_click_writes_its_report(offline, page) -> None:
    page.goto(offline["url"])
    page.fill("#ticker", "apple")
    button = choice(page, "AAPL")
    assert button.text_content() == "AAPL · Apple Inc."
    assert page.text_content("#ticker-hint") == (
        "One click on the company you mean writes its report."
    )
    assert "Did you mean:" in page.text_content("#suggestions")
    shot(page, "10-name-suggests-ticker.png")

    button.click()
    page.wait_for_url("**/reports/*", timeout=60_000)
    assert "Apple Inc." in page.text_content("h1")
    assert "offline snapshot as of 2025-02-14" in page.text_content("body")
    shot(page, "11-suggested-company-report.png")
    assert page.dialogs == []


def test_a_company_that_needs_yahoo_offers_the_bundled_ones(offline, page) -> None:
    page.goto(offline["url"])
    page.fill("#ticker", "MSFT")
    page.wait_for_selector("#ticker-hint:has-text('cannot be looked up')", timeout=20_000)
    assert "work offline" in page.text_content("#ticker-hint")
    shot(page, "12-offline-hint.png")

    page.click("#generate")
    spot = choice(page, "SPOT")
    assert page.is_hidden("#job")  # nothing was written: the message stays by the input
    message = page.text_content("#ticker-hint")
    assert message.startswith("Yahoo Finance cannot be reached: this server seems to be offline")
    assert "ERT can write about the 10 companies bundled with it" in message
    assert "try again" not in message  # it would not help
    assert "Works offline:" in page.text_content("#suggestions")
    offered = page.eval_on_selector_all(
        "#suggestions button", "bs => bs.map(b => b.dataset.ticker)"
    )
    assert offered == SnapshotSource().tickers()  # all ten
    shot(page, "13-offline-alternatives.png")

    spot.click()
    page.wait_for_url("**/reports/*", timeout=60_000)
    assert "Spotify Technology S.A." in page.text_content("h1")
    shot(page, "14-alternative-report.png")
    assert page.dialogs == []


def test_a_fund_is_refused_while_typing_and_offline(offline, page) -> None:
    page.goto(offline["url"])
    page.fill("#ticker", "QQQ")
    page.wait_for_selector("#ticker-hint.error:has-text('QQQ is an ETF')", timeout=20_000)
    shot(page, "15-fund-refused-hint.png")
    page.click("#generate")  # and the server refuses it too
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('QQQ is an ETF')",
        timeout=20_000,
    )


def test_the_pages_ask_for_nothing_that_is_missing(offline, page) -> None:
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(offline["url"])
    page.wait_for_load_state("networkidle")
    assert missing == []
    icon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert icon.endswith("/static/favicon.svg")
