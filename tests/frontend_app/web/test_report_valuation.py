"""The report page and its exports carry the analysis of the recorded company (AAPL, the
bundled snapshot): valuation, peers, estimates, ownership, sources and filings, the
charts, and each checked figure marked by its status; peers named on the form."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from frontend_app import create_app
from frontend_app.reports.render import MARKS, mark_counts
from tests.frontend_app.conftest import BASE_ENV
from tests.frontend_app.web.test_http import wait_for_report
from vast_ai.schemas import ReportGrounding, ReportRequest, ReportResponse
from vast_ai.writer.rating import DEMO_MODEL

# Named on the form: two bundled peers, one this server cannot fetch, one that is no ticker.
PEERS = "CRM, spot; MSFT $$"
# The recorded company's valuation as analysis/ computes it (tests/frontend_app/analysis
# checks these figures against hand calculations).
AAPL_FIGURES = (
    "$109.84",  # DCF value per share
    "$97.22 to $126.62",  # its range in the sensitivity grid
    "$162.23 / $170.12 / $180.60",  # bear / base / bull
    "25.7% a year for 5 years",  # reverse DCF
    "Discounted cash flow 62.5%",  # the weights, DCF and peers only (no price history)
    "2025-04-30 to 2025-05-05",  # next earnings
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    database = tmp_path_factory.mktemp("valuation") / "ert.sqlite3"
    app = create_app({**BASE_ENV, "DATABASE_URL": f"sqlite:///{database}"})
    yield app
    app.extensions["ert"].close()


@pytest.fixture(scope="module")
def report_id(app: Flask) -> str:
    """AAPL written by the data-only writer (every integration off), peers named."""
    answer = app.test_client().post("/api/reports", json={"ticker": "AAPL", "peers": PEERS})
    assert answer.status_code == 202, answer.json
    return wait_for_report(app, answer.json["job_id"])


def _copy(app: Flask, report_id: str, **changes: Any) -> str:
    """The stored report again with `changes` to its response: the new id."""
    store = app.extensions["ert"].store
    stored = store.get(report_id)
    again = store.save(
        report=ReportResponse.model_validate({**stored.report, **changes}),
        inputs=ReportRequest.model_validate(stored.inputs),
        context=stored.context,
        integration="remote",
    )
    return again.id


@pytest.fixture(scope="module")
def demo_report_id(app: Flask, report_id: str) -> str:
    """The same report as if a demo model had written it: its rating withheld."""
    metadata = app.extensions["ert"].store.get(report_id).report["metadata"]
    return _copy(
        app,
        report_id,
        metadata={**metadata, "demo_model": True},
        rating=DEMO_MODEL.model_dump(mode="json"),
    )


def _grounding(app: Flask, report_id: str) -> ReportGrounding:
    full = app.test_client().get(f"/reports/{report_id}.json").json
    return ReportGrounding.model_validate(full["report"]["grounding"])


def test_the_page_shows_the_valuation_of_the_recorded_company(app, report_id) -> None:
    page = app.test_client().get(f"/reports/{report_id}").get_data(as_text=True)
    for figure in AAPL_FIGURES:
        assert figure in page, figure
    for expected in (
        # DCF assumptions, each with its period or date and source
        "DCF assumptions",
        "10-year US Treasury yield, rounded",
        "as of 2025-02-14",
        "implied equity risk premium of the S&amp;P 500 (Damodaran)",
        "ERT setting",
        "DCF value per share: discount rate x terminal growth",
        "Valuation by multiples",
        "Price target: bear, base and bull",
        # AAPL's "buy"-free report is not rated, so the check says it did not check
        "Rating vs price target",
        # not meaningful, with the reason
        "Methods that do not fit",
        "P/E vs own history",
        "reaches 0 of the fiscal year ends",
        # comps with the median and the rank
        "Comparable companies",
        "Peer median",
        "Rank of AAPL",
        # estimates, revisions, surprises, ratings, ownership, sources
        "Analysts&#39; estimates",
        "EPS estimate revisions",
        "Earnings surprises",
        "Recent rating changes",
        "Insider transactions",
        "Institutions (of the float)",
        "Source: Yahoo Finance earningsTrend",
        "Source: Yahoo Finance insiderTransactions",
    ):
        assert expected in page, expected
    # Every chart, drawn on the server; the football field marks the price.
    for chart in (
        "football_field",
        "sensitivity",
        "dcf_cash_flows",
        "comps",
        "prices",
        "annual",
        "margins",
        "estimate_revisions",
        "eps_surprises",
        "recommendations",
        "ownership",
    ):
        assert f'id="chart-{chart}"' in page, chart
    field = page.split('id="chart-football_field"', 1)[1].split("</figure>", 1)[0]
    assert "<svg" in field and "price $244.60" in field and "Analysts' targets" in field


def test_named_peers_are_compared_and_the_others_left_out_with_the_reason(app, report_id) -> None:
    page = app.test_client().get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Peers named for this report (CRM, SPOT)" in page
    assert "MSFT left out: MSFT is not one of the companies bundled with ERT" in page
    assert "$$ left out: &#39;$$&#39; is not a valid ticker" in page
    comps = page.split('id="table-comps"', 1)[1].split("</table>", 1)[0]
    assert "CRM (Salesforce, Inc.)" in comps and "MSFT" not in comps


def test_only_the_filings_from_the_data_are_links(app, report_id) -> None:
    page = app.test_client().get(f"/reports/{report_id}").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" rel="noopener noreferrer nofollow">', page)
    assert links and all(
        link.startswith("https://finance.yahoo.com/sec-filing/AAPL/") for link in links
    )
    sections = page.split('<section class="report-section', 1)[1].split('class="data-group"')[0]
    assert "<a " not in sections  # the text's links stay text


def test_every_checked_figure_is_marked_by_its_status_with_a_legend(app, report_id) -> None:
    page = app.test_client().get(f"/reports/{report_id}").get_data(as_text=True)
    counts = mark_counts(_grounding(app, report_id))
    # The data-only writer's long fact lists give every status but "derived".
    assert counts["verified"] and counts["mismatch"] and counts["unverified"]
    legend = page.split('id="legend"', 1)[1].split("</p>", 1)[0]
    for kind, mark in MARKS.items():
        assert f'<span class="{mark.css}">{mark.legend}</span> {counts[kind]}' in legend
    text = page.split('<section class="report-section', 1)[1].split('class="data-group"')[0]
    marked = {
        kind: len(re.findall(rf'<span class="{mark.css}" title="', text))
        for kind, mark in MARKS.items()
    }
    assert marked == counts
    # A mismatch says which fact the value really is.
    mismatch = re.search(r'<span class="fig fig-mismatch" title="([^"]+)">([^<]+)</span>', text)
    assert mismatch is not None and " is " in mismatch[1] and ", not " in mismatch[1]


@pytest.mark.parametrize(
    ("rating", "verdict"),
    [
        ("buy", "NOT consistent: a buy, but the base-case target $170.12 is not above the price"),
        ("sell", "consistent: the base-case target $170.12 is below the price $244.60"),
    ],
)
def test_the_rating_is_checked_against_the_price_target(app, report_id, rating, verdict) -> None:
    rated = _copy(app, report_id, rating={"recommendation": rating, "conviction": "high"})
    page = app.test_client().get(f"/reports/{rated}").get_data(as_text=True)
    check = page.split('class="rating-check', 1)[1].split("</div>", 1)[0]
    assert verdict in check
    markdown = app.test_client().get(f"/reports/{rated}.md").get_data(as_text=True)
    assert f"- **Rating vs price target**: {verdict}" in markdown


def test_a_section_that_failed_the_check_is_never_shown_as_clean_prose(app, report_id) -> None:
    full = app.test_client().get(f"/reports/{report_id}.json").json
    failed = [s for s in full["report"]["sections"].values() if s["status"] == "failed_check"]
    assert failed  # the data-only writer's fact lists fail the check in places
    page = app.test_client().get(f"/reports/{report_id}").get_data(as_text=True)
    for section in failed:
        shown = page.split(f'id="{section["id"]}"', 1)[1].split("</section>", 1)[0]
        assert "This section failed the figure check" in shown
        assert '<details class="failed-draft">' in shown
        if section.get("replacement"):
            assert "In its place, the data-only writer" in shown


def test_the_exports_carry_the_valuation_charts_marks_and_tables(app, report_id) -> None:
    http = app.test_client()
    page = http.get(f"/reports/{report_id}").get_data(as_text=True)
    standalone = http.get(f"/reports/{report_id}.html").get_data(as_text=True)
    charts = page.count('<figure class="chart"')
    assert charts == 11 and standalone.count('<figure class="chart"') == charts
    assert standalone.count("<svg") >= charts and "<script" not in standalone
    assert 'id="legend"' in standalone and "fig-mismatch" in standalone
    for figure in AAPL_FIGURES:
        assert figure in standalone, figure

    markdown = http.get(f"/reports/{report_id}.md").get_data(as_text=True)
    for figure in AAPL_FIGURES:
        assert figure in markdown, figure
    assert "- **DCF value per share**: $109.84" in markdown
    assert "| Company | P/E | EV/EBITDA | P/S |" in markdown
    assert "| Peer median | 51.0x |" in markdown
    assert "| **AAPL (Apple Inc.)** | 38.8x |" in markdown  # the company's row stands out
    assert (
        "### DCF assumptions" in markdown
        and "| Risk-free rate | 4.5% | as of 2025-02-14 |" in markdown
    )
    assert re.search(
        r"\[Periodic Financial Reports\]\(https://finance\.yahoo\.com/sec-filing/", markdown
    )
    assert re.search(r"\[\^\w+-u\d+\]: [^\n]+ is [^\n]+, not the ", markdown)  # a mismatch footnote
    assert "verified by value alone: " in markdown and "in the data as another metric: " in markdown

    pdf = http.get(f"/reports/{report_id}.pdf").data
    assert pdf.startswith(b"%PDF")
    # Each chart is an image in the PDF (PNG, as drawn for the page).
    assert len(re.findall(rb"/Subtype /Image", pdf)) >= charts


def test_a_demo_model_report_says_so_and_is_not_rated_everywhere(app, demo_report_id) -> None:
    http = app.test_client()
    banner = "A small demo model (data-only) wrote this text: its claims are unreliable"
    page = http.get(f"/reports/{demo_report_id}").get_data(as_text=True)
    assert banner in page and "NOT RATED" in page
    assert "Not rated: a small demo model wrote this text" in page
    assert "not checked: not rated" in page  # the rating check has no rating to check
    markdown = http.get(f"/reports/{demo_report_id}.md").get_data(as_text=True)
    assert f"> **{banner}" in markdown and "> Not rated: a small demo model" in markdown
    assert banner in http.get(f"/reports/{demo_report_id}.html").get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (make test)")
def test_the_pdf_reads_as_the_page(app, demo_report_id, tmp_path: Path) -> None:
    """The PDF's text, as poppler extracts it: banner, legend, valuation, tables."""
    path = tmp_path / "report.pdf"
    path.write_bytes(app.test_client().get(f"/reports/{demo_report_id}.pdf").data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "A small demo model (data-only) wrote this text",
        "Not rated: a small demo model",
        "Figures in the text: verified",
        "in the data as another metric",
        "DCF value per share $109.84",
        "Football field: value per share by method",
        "Comparable companies",
        "Peer median",
        "Recent SEC filings",
        *AAPL_FIGURES[2:],
    ):
        assert expected in flat, expected


@pytest.mark.parametrize(
    ("peers", "code"),
    [(5, "invalid_peers"), ([1, 2], "invalid_peers"), (",".join(["MSFT"] * 11), "invalid_peers")],
)
def test_peers_that_are_not_a_list_of_names_are_refused(app, peers: Any, code: str) -> None:
    answer = app.test_client().post("/api/reports", json={"ticker": "AAPL", "peers": peers})
    assert answer.status_code == 400 and answer.json["error"]["code"] == code
    assert "MSFT, GOOG" in answer.json["error"]["message"]


def test_the_socket_generate_event_takes_peers(app, watcher) -> None:
    client = watcher(app)
    ack = client.emit("generate", {"ticker": "AAPL", "peers": ["CRM", "NOPE.XX"]})
    assert "job_id" in ack, ack
    client.emit("subscribe", {"job_id": ack["job_id"]})
    left_out = client.wait_for(
        "progress", lambda p: "Peer NOPE.XX left out" in p.get("message", ""), timeout=60
    )
    assert left_out["job_id"] == ack["job_id"]
    assert client.wait_done(ack["job_id"], timeout=60)["event"] == "completed"
    bad = client.emit("generate", {"ticker": "AAPL", "peers": {"a": 1}})
    assert bad["error"]["code"] == "invalid_peers"
