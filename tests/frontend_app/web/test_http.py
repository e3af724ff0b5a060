"""HTTP routes: health, the JSON API, the report page, exports, and bad input (never a 500)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask

from tests.fakes.ollama import Reply, default_responder
from tests.fakes.reports import store_hostile_report
from tests.frontend_app.conftest import EXPOSED

HOSTILE = (
    "Revenue grew.\n\n<script>window.__pwned = 1</script>\n\n"
    '<img src=x onerror="window.__pwned = 2">\n\n[click](javascript:alert(1)) '
    "[login again](https://evil.example/login)"
)


def wait_for_report(app: Flask, job_id: str) -> str:
    http = app.test_client()
    deadline = time.monotonic() + 30
    while True:
        job = http.get(f"/api/jobs/{job_id}").json
        if job["state"] == "completed":
            assert job["error"] is None
            return job["report_id"]
        assert job["state"] in ("queued", "running"), job
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture
def remote_app(make_app, remote_env, ollama) -> Flask:
    return make_app(**remote_env)


@pytest.fixture
def report_id(remote_app: Flask, ollama) -> str:
    # Five figures from the data and one made up: under the share that fails the check.
    text = Reply(
        text="Revenue reached $391.0B, the gross margin 46.2%, the operating margin 31.5% and "
        "the net margin 24.0%; the shares trade at 38.8x trailing earnings, and one margin "
        "stayed at 99.9%."
    )
    ollama.responder = lambda body: default_responder(body) if body.get("format") else text
    job_id = remote_app.test_client().post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    return wait_for_report(remote_app, job_id)


def test_health_is_200_and_reports_the_gpu_tier(make_app, remote_env, down_url) -> None:
    up = make_app(**remote_env).test_client().get("/health")
    assert up.status_code == 200
    assert up.json["status"] == "ok" and up.json["backend"]["remote"]["status"] == "healthy"
    down = (
        make_app(REMOTE_LLM_INTEGRATION="true", ERT_LLM_BACKEND_URL=down_url)
        .test_client()
        .get("/health")
    )
    assert down.status_code == 200
    assert down.json["backend"]["remote"]["status"] == "unreachable"
    assert down.json["backend"]["integrations"] == ["remote", "data_only"]


def test_models_come_from_the_gpu_tier_or_the_settings(make_app, remote_env, ollama) -> None:
    from_tier = make_app(**remote_env).test_client().get("/api/models").json["models"]
    assert {"gpt-oss:20b", "llama3.1:8b"} <= {m["name"] for m in from_tier}
    configured = make_app(ERT_MODELS="a:1b, b:2b").test_client().get("/api/models").json["models"]
    assert [(m["name"], m["default"]) for m in configured] == [("a:1b", True), ("b:2b", False)]


@pytest.mark.parametrize(
    "body, code",
    [
        (None, "invalid_request"),
        ({"ticker": "$$$"}, "invalid_ticker"),
        ({"ticker": "AAPL", "x": 1}, "invalid_request"),
        ({"ticker": "AAPL", "model": "gpt-9"}, "unknown_model"),
    ],
)
def test_post_reports_refuses_bad_input_with_400(make_app, body, code) -> None:
    response = make_app().test_client().post("/api/reports", json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == code


def test_a_failed_job_says_why_over_http(make_app) -> None:
    http = make_app().test_client()
    job_id = http.post("/api/reports", json={"ticker": "QQQ"}).json["job_id"]
    deadline = time.monotonic() + 30
    while (job := http.get(f"/api/jobs/{job_id}").json)["state"] != "failed":
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["error"]["code"] == "not_an_equity"
    assert "QQQ is an ETF" in job["error"]["message"]


def test_delete_cancels_a_job_over_http(remote_app, ollama) -> None:
    slow = Reply(text="Revenue grew. " * 40, chunk_delay=0.05)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    http = remote_app.test_client()
    job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    cancelling = http.delete(f"/api/jobs/{job_id}")
    assert cancelling.status_code == 202 and cancelling.json["job_id"] == job_id
    deadline = time.monotonic() + 15
    while (job := http.get(f"/api/jobs/{job_id}").json)["state"] != "cancelled":
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["error"]["code"] == "cancelled"
    time.sleep(0.1)
    assert http.get(f"/api/jobs/{job_id}").json["elapsed"] == job["elapsed"]  # frozen
    again = http.delete(f"/api/jobs/{job_id}")
    assert again.status_code == 409 and again.json["error"]["code"] == "not_cancellable"
    assert http.delete("/api/jobs/nope").status_code == 404


def test_the_ticker_check_answers_as_you_type(make_app) -> None:
    http = make_app().test_client()  # the bundled companies only, as offline
    brk = http.get("/api/tickers/check?q=brk-b").json
    assert (brk["valid"], brk["ticker"], brk["suggestions"], brk["offline"]) == (
        True,
        "BRK-B",
        [],
        True,
    )
    aapl = http.get("/api/tickers/check?q=AAPL").json
    assert [m["ticker"] for m in aapl["suggestions"]] == ["AAPL"]  # nothing unrelated
    assert aapl["suggestions"][0]["name"] == "Apple Inc." and aapl["suggestions"][0]["bundled"]
    assert [m["ticker"] for m in http.get("/api/tickers/check?q=msft").json["suggestions"]] == []
    assert "OCDO.L" in [
        m["ticker"] for m in http.get("/api/tickers/check?q=OCDO").json["suggestions"]
    ]


def test_a_name_is_resolved_to_tickers(make_app) -> None:
    http = make_app().test_client()
    apple = http.get("/api/tickers/check?q=apple").json
    assert apple["valid"] is True and apple["ticker"] == "APPLE"  # could be a ticker too
    assert [m["ticker"] for m in apple["suggestions"]] == ["AAPL"]
    named = http.get("/api/tickers/check?q=spotify%20technology").json
    assert named["valid"] is False and named["code"] == "invalid_ticker"
    assert [m["ticker"] for m in named["suggestions"]] == ["SPOT"]
    nothing = http.get("/api/tickers/check?q=no%20way").json
    assert nothing["valid"] is False and nothing["suggestions"] == []
    assert nothing["message"] == "No company named 'no way' among the companies bundled with ERT"
    assert "only letters" in http.get("/api/tickers/check?q=$$").json["message"]


@pytest.mark.parametrize(
    "typed, refused",
    [
        ("qqq", "ERT writes equity research; QQQ is an ETF"),
        ("^gspc", "ERT writes equity research; ^GSPC is an index"),
        ("BTC-USD", "ERT writes equity research; BTC-USD is a cryptocurrency"),
    ],
)
def test_the_check_says_at_once_what_erts_refuses(make_app, typed, refused) -> None:
    answer = make_app().test_client().get(f"/api/tickers/check?q={typed}").json
    assert answer["refused"] == refused
    assert "refused" not in make_app().test_client().get("/api/tickers/check?q=AAPL").json


@pytest.mark.parametrize(
    "path",
    [
        "/reports/nope",
        "/reports/nope.pdf",
        "/reports/nope.md",
        "/api/reports/nope",
        "/api/jobs/nope",
        "/no/such/page",
    ],
)
def test_unknown_things_are_404_not_500(make_app, path) -> None:
    response = make_app().test_client().get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "not_found"
    else:
        assert b"Traceback" not in response.data


def test_the_report_page_shows_everything_the_issue_lists(remote_app, report_id) -> None:
    page = remote_app.test_client().get(f"/reports/{report_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for expected in (
        "Apple",
        "AAPL",
        "USD",
        "conviction",
        "offline snapshot",
        "gpt-oss:20b",
        "Key metrics",
        "Not investment advice",
        "Usage and cost",
        "figures verified",
        'id="chart-football_field"',
        'id="chart-prices"',
        'id="chart-annual"',
        'id="chart-margins"',
        "Valuation computed by ERT",
        "fig fig-verified",
        "fig fig-unverified",
        "Regenerate",
    ):
        assert expected in html, expected
    for section in (
        "Executive Summary",
        "Business Overview",
        "Financial Analysis",
        "Valuation",
        "Risks",
        "Investment Thesis",
    ):
        assert f"<h2>{section}</h2>" in html
    assert "cdn" not in html.lower()
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_exports(remote_app, report_id) -> None:
    http = remote_app.test_client()
    markdown = http.get(f"/reports/{report_id}.md")
    assert markdown.mimetype == "text/markdown"
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Apple") and "## Risks" in text
    # Each section's unverified figures get footnotes whose labels are unique in the file.
    assert "[^risks-u1]: 99.9%" in text and "[^valuation-u1]: 99.9%" in text
    assert "not investment advice" in text.lower()

    standalone = http.get(f"/reports/{report_id}.html").get_data(as_text=True)
    assert "<style>" in standalone and "fig-unverified" in standalone
    assert '"Segoe UI"' in standalone  # the inline CSS is not HTML-escaped
    assert "<script" not in standalone and 'href="/static' not in standalone

    pdf = http.get(f"/reports/{report_id}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(pdf.data) > 5000

    full = http.get(f"/reports/{report_id}.json").json
    assert full["report"]["ticker"] == "AAPL"
    assert full["inputs"]["fact_sheet"] and full["inputs"]["options"]["seed"] == 42
    assert full["report"]["metadata"]["prompt_hash"]
    assert full["charts"]["prices"]["close"]


def test_history_is_newest_first(remote_app, report_id) -> None:
    http = remote_app.test_client()
    second = wait_for_report(
        remote_app, http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    )
    listed = [r["id"] for r in http.get("/api/reports").json["reports"]]
    assert listed == [second, report_id]


def test_regenerate_sends_the_same_inputs_model_and_seed(remote_app, report_id, ollama) -> None:
    first_requests = list(ollama.chat_requests)
    ollama.chat_requests.clear()
    http = remote_app.test_client()
    answer = http.post(f"/api/reports/{report_id}/regenerate")
    assert answer.status_code == 202
    again = wait_for_report(remote_app, answer.json["job_id"])
    assert again != report_id

    def key(body: dict[str, Any]) -> str:
        return json.dumps(
            [body["model"], body["messages"], body.get("options", {}).get("seed")], sort_keys=True
        )

    assert sorted(map(key, ollama.chat_requests)) == sorted(map(key, first_requests))
    assert http.post("/api/reports/nope/regenerate").status_code == 404


def test_model_output_never_becomes_markup(make_app) -> None:
    app = make_app()
    report_id = store_hostile_report(app.extensions["ert"].store, HOSTILE, "<b>bold</b>")
    http = app.test_client()
    page = http.get(f"/reports/{report_id}").get_data(as_text=True)
    section = page.split('id="risks"', 1)[1].split("</section>", 1)[0]
    assert "Revenue grew." in section
    assert "<script" not in section and "<img" not in section and "href=" not in section
    assert "&lt;script&gt;" in section  # shown as text, not run
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # the rating summary is escaped too
    assert "[login again](https://evil.example/login)" in section  # the model's link, as text
    standalone = http.get(f"/reports/{report_id}.html").get_data(as_text=True)
    assert "<script" not in standalone and "<img" not in standalone
    assert "evil.example" in standalone and 'href="https://evil' not in standalone
    markdown = http.get(f"/reports/{report_id}.md").get_data(as_text=True)
    assert re.search(r"(?<!\\)<", markdown) is None  # every < escaped: no tag at all
    assert "\\[login again\\](`https://evil.example/login`)" in markdown
    assert http.get(f"/reports/{report_id}.pdf").status_code == 200


def test_there_is_a_favicon_even_before_signing_in(make_app) -> None:
    http = make_app().test_client()
    icon = http.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")
    assert b'rel="icon"' in http.get("/").data
    exposed = make_app(**EXPOSED).test_client()  # sign-in required
    assert exposed.get("/favicon.ico").status_code == 200
    assert b'rel="icon"' in exposed.get("/login").data


def test_pages_send_the_security_headers_and_connect_only_to_their_own_origin(make_app) -> None:
    page = make_app().test_client().get("/")
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_section_that_failed_the_check_shows_why_the_data_and_the_rejected_text(
    remote_app, ollama
) -> None:
    invented = Reply(text="Sales were $777.7B and it trades at 88.8x earnings.")
    ollama.responder = lambda body: default_responder(body) if body.get("format") else invented
    http = remote_app.test_client()
    report_id = wait_for_report(
        remote_app, http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    )

    page = http.get(f"/reports/{report_id}").get_data(as_text=True)
    section = page.split('id="valuation"', 1)[1].split("</section>", 1)[0]
    notice = section.split('class="failed">', 1)[1].split("</p>", 1)[0]
    assert notice.startswith("This section failed the figure check: 2 of 2 figures failed")
    assert ".." not in notice  # one full stop, not two
    data_only = section.split('class="replacement"', 1)[1].split("</div>", 1)[0]
    assert "no language model" in data_only and "$244.60" in data_only
    draft = section.split('class="failed-draft"', 1)[1]
    assert "fig-unverified" in draft and "777.7" in draft  # shown, marked, folded away

    markdown = http.get(f"/reports/{report_id}.md").get_data(as_text=True)
    valuation = markdown.split("## Valuation\n", 1)[1].split("\n## ", 1)[0]
    assert "*This section failed the figure check: 2 of 2 figures failed" in valuation
    assert "The model's draft, which failed the check:" in valuation
    assert "[^valuation-u1]: $777.7B" in valuation
    assert http.get(f"/reports/{report_id}.pdf").status_code == 200


def test_a_report_written_on_a_cpu_bills_no_gpu_time(make_app) -> None:
    app = make_app()
    on_cpu = store_hostile_report(app.extensions["ert"].store, "Fine.", "Fine.", processor="cpu")
    on_gpu = store_hostile_report(app.extensions["ert"].store, "Fine.", "Fine.", processor="gpu")
    http = app.test_client()
    cpu_page = http.get(f"/reports/{on_cpu}").get_data(as_text=True)
    assert "Model time on a CPU" in cpu_page and "no GPU was rented" in cpu_page
    assert "GPU time" not in cpu_page
    assert "GPU time" in http.get(f"/reports/{on_gpu}").get_data(as_text=True)
