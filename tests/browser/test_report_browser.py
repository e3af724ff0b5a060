"""The report page in headless Chromium: an offline AAPL report (the bundled snapshots)
compared with peers named on the form shows its football field with the price marked,
and the legend of the figure marks. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from frontend_app.reports.store import ReportStore
from tests.browser.conftest import SCREENSHOTS, shot
from tests.fakes.ollama import Reply, default_responder
from vast_ai.schemas import ReportRequest, ReportResponse
from vast_ai.writer.rating import DEMO_MODEL

pytestmark = pytest.mark.slow

# Figures from the data and one wrong: a verified mark, a mismatch and an unverified one.
TEXT = (
    "Apple's gross margin was 46.2% and its net margin 24.0%; the operating margin was "
    "24.0%, and revenue grew 99.9% last year."
)


def test_the_football_field_and_the_legend_render(servers, page, ollama) -> None:
    reply = Reply(text=TEXT)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else reply
    page.goto(servers["url"])
    page.fill("#ticker", "AAPL")
    page.fill("#peers", "CRM, SPOT, MSFT")
    page.click("#generate")
    page.wait_for_url("**/reports/*", timeout=90_000)

    field = page.locator("#chart-football_field")
    field.wait_for(state="visible")
    box = field.locator("svg").bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 200
    assert field.locator("svg text", has_text="price $244.60").count() == 1
    assert field.locator("svg text", has_text="Discounted cash flow").count() == 1
    assert "DCF value per share" in page.text_content("#valuation-headline")
    assert "MSFT left out" in page.text_content("#valuation-headline")

    legend = page.locator("#legend")
    for css, words in (
        ("fig-verified", "verified"),
        ("fig-value-only", "verified by value alone"),
        ("fig-derived", "derived from two facts"),
        ("fig-mismatch", "in the data as another metric"),
        ("fig-unverified", "not found in the data"),
    ):
        mark = legend.locator(f"span.{css}", has_text=words).first
        assert mark.is_visible(), css
    # The marks in the text carry the same colours as the legend's.
    colour = "el => getComputedStyle(el).borderBottomColor"
    mismatch = page.locator(".report-section span.fig-mismatch").first
    assert mismatch.evaluate(colour) == legend.locator("span.fig-mismatch").evaluate(colour)
    assert "not the operating margin" in (mismatch.get_attribute("title") or "")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "10-report-valuation.png"))
    field.screenshot(path=str(SCREENSHOTS / "11-football-field.png"))
    shot(page, "12-report-full.png")


def test_a_demo_model_report_says_so_and_is_not_rated(servers, page) -> None:
    """The last report as if the embedded demo model had written it (as `make run` does
    without Ollama): the banner, NOT RATED and why."""
    store = ReportStore(create_engine(servers["database"]))
    try:
        latest = store.recent(1)[0]
        body = {**latest.report, "rating": DEMO_MODEL.model_dump(mode="json")}
        body["metadata"] = {**body["metadata"], "demo_model": True, "engine": "llamacpp"}
        demo = store.save(
            report=ReportResponse.model_validate({**body, "model": "gemma3:270m"}),
            inputs=ReportRequest.model_validate(latest.inputs),
            context=latest.context,
            integration="remote",
        )
    finally:
        store.dispose()
    page.goto(f"{servers['url']}/reports/{demo.id}")
    banner = page.locator(".banner.demo-model")
    assert banner.is_visible()
    assert "A small demo model (gemma3:270m) wrote this text" in banner.text_content()
    assert page.text_content(".rating") == "NOT RATED"
    assert "rating is withheld" in banner.text_content()
    assert page.locator(".withheld").count() == 0  # the banner says it once, not twice
    assert "demo model" in page.text_content(".facts-line")
    shot(page, "13-demo-model-report.png")
