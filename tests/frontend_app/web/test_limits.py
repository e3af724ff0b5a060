"""Limits on asking for reports: per account and per address, each account's waiting jobs,
the whole queue; past them a clear "try again in N minutes" (429) and nothing queued."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from flask import Flask

from tests.frontend_app.conftest import EXPOSED, sign_in, silent_model


@pytest.fixture
def busy_app(make_app, remote_env, ollama) -> Flask:
    """An exposed dashboard writing one report at a time through a GPU tier whose model is
    silent, so that jobs hold their slot."""
    silent_model(ollama)
    return make_app(**EXPOSED, **remote_env, ERT_LLM_TIMEOUT="60", ERT_MAX_CONCURRENT_REPORTS="1")


def cancel_all(app: Flask, job_ids: list[str]) -> None:
    for job_id in job_ids:
        app.extensions["ert"].jobs.cancel(job_id)


def test_a_burst_of_200_from_one_account_is_limited_and_another_still_gets_near_the_front(
    busy_app,
) -> None:
    ann, ann_csrf = sign_in(busy_app, "ann@example.com")
    answers = [
        ann.post("/api/reports", json={"ticker": "AAPL"}, headers={"X-CSRFToken": ann_csrf})
        for _ in range(200)
    ]
    statuses = Counter(a.status_code for a in answers)
    codes = Counter(a.json["error"]["code"] for a in answers if a.status_code == 429)
    assert statuses == {202: 3, 429: 197}  # one running, two waiting
    assert codes == {"too_many_waiting": 2, "rate_limited": 195}
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert re.search(r": try again in \d+ minutes?$", refused.json["error"]["message"])

    bob, bob_csrf = sign_in(busy_app, "bob@example.com")
    mine = bob.post("/api/reports", json={"ticker": "AAPL"}, headers={"X-CSRFToken": bob_csrf})
    assert mine.status_code == 202
    position = bob.get(f"/api/jobs/{mine.json['job_id']}").json["queue_position"]
    assert position == 3  # behind Ann's two waiting jobs, not behind 199
    accepted = [a.json["job_id"] for a in answers if a.status_code == 202]
    cancel_all(busy_app, [*accepted, mine.json["job_id"]])


def test_a_full_queue_says_busy_and_queues_nothing_over_http_and_socketio(
    make_app, remote_env, ollama, watcher
) -> None:
    silent_model(ollama)
    app = make_app(**remote_env, ERT_MAX_CONCURRENT_REPORTS="1", ERT_MAX_QUEUE="1")
    http = app.test_client()
    first = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    second = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
    full = http.post("/api/reports", json={"ticker": "AAPL"})
    assert full.status_code == 429 and full.json["error"]["code"] == "busy"
    assert full.json["error"]["message"].startswith("ERT is busy (1 report waiting): try again in")
    ack = watcher(app).emit("generate", {"ticker": "AAPL"})
    assert ack["error"]["code"] == "busy" and ack["error"]["retry_after"] >= 1
    assert app.extensions["ert"].jobs.counts() == {"active": 1, "waiting": 1, "limit": 1}
    cancel_all(app, [first, second])


def test_the_dashboard_runs_no_more_reports_than_the_gpu_tier_holds(
    make_app, remote_env, ollama
) -> None:
    silent_model(ollama)
    app = make_app(**remote_env, ERT_MAX_CONCURRENT_REPORTS="8")
    http = app.test_client()
    slots = http.get("/health").json["backend"]["remote"]["queue"]["limit"]
    assert slots < 8
    jobs = app.extensions["ert"].jobs
    ids = [
        http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"] for _ in range(slots + 1)
    ]
    assert jobs.counts()["active"] == slots and jobs.counts()["waiting"] == 1
    cancel_all(app, ids)


def test_on_render_each_client_address_behind_the_proxies_has_its_own_limit(make_app) -> None:
    app = make_app(
        RENDER="true", ERT_REPORTS_PER_ADDRESS="2/minute", ERT_REPORTS_PER_USER="9/minute"
    )
    http, csrf = sign_in(app, "ann@example.com")

    def ask(client: str) -> int:
        # Render's proxy connects; Cloudflare and the client are in X-Forwarded-For.
        forwarded = {"X-Forwarded-For": f"{client}, 104.22.17.40", "X-CSRFToken": csrf}
        return http.post("/api/reports", json={"ticker": "AAPL"}, headers=forwarded).status_code

    assert [ask("198.51.100.7") for _ in range(3)] == [202, 202, 429]
    assert ask("203.0.113.9") == 202  # another client: its own budget
    assert ask("203.0.113.50, 198.51.100.7") == 429  # a hop the client made up buys nothing
