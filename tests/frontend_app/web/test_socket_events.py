"""Socket.IO events end to end through the real GPU tier (vast_ai on uvicorn, fake Ollama)."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

import pytest

from tests.fakes.ollama import Reply, default_responder

STAGE_ORDER = [
    "validating",
    "fetching_data",
    "computing_metrics",
    "generating",
    "verifying",
    "saving",
    "completed",
]


def stages(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The progress stages in order, repeats collapsed."""
    seen: list[str] = []
    for name, payload in events:
        if name == "progress" and (not seen or seen[-1] != payload["stage"]):
            seen.append(payload["stage"])
    return seen


def streamed_text(events: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    text: dict[str, str] = {}
    for name, payload in events:
        if name == "token":
            text[payload["section"]] = text.get(payload["section"], "") + payload["text"]
    return text


def slow(ollama: Any, delay: float = 0.05) -> None:
    ollama.reply = Reply(
        text="Revenue reached $391.0B while margins held up well.", chunk_delay=delay
    )


def test_a_report_streams_its_events_in_order(make_app, remote_env, watcher, ollama) -> None:
    app = make_app(**remote_env)
    client = watcher(app)
    ack = client.emit("generate", {"ticker": " aapl "})
    job_id = ack["job_id"]
    done = client.wait_done(job_id)

    assert done["event"] == "completed"
    events = client.of(job_id)
    assert stages(events) == STAGE_ORDER
    names = [name for name, _ in events]
    first_token, last_token = names.index("token"), len(names) - 1 - names[::-1].index("token")
    generating_at = next(i for i, (n, p) in enumerate(events) if p.get("stage") == "generating")
    verifying_at = next(i for i, (n, p) in enumerate(events) if p.get("stage") == "verifying")
    assert generating_at < first_token < last_token < verifying_at
    assert names.count("section") == 6
    assert [p["seq"] for _, p in events] == list(range(1, len(events) + 1))  # nothing lost
    progress = [p for n, p in events if n == "progress"]
    assert all({"stage", "percent", "message", "elapsed"} <= p.keys() for p in progress)
    assert [p["percent"] for p in progress] == sorted(p["percent"] for p in progress)
    verifying = next(p for p in progress if p["stage"] == "verifying")
    assert "verified" in verifying["message"] or "No figures" in verifying["message"]
    assert "391.0B" in "".join(streamed_text(events).values())

    page = app.test_client().get(done["url"])
    assert page.status_code == 200 and b"Apple" in page.data
    stored = app.extensions["ert"].store.get(done["report_id"])
    assert stored is not None and stored.integration == "remote"
    assert stored.inputs["ticker"] == "AAPL" and stored.inputs["fact_sheet"]


def test_subscribe_replays_a_finished_job_to_a_new_browser(
    make_app, remote_env, watcher, ollama
) -> None:
    app = make_app(**remote_env)
    first = watcher(app)
    job_id = first.emit("generate", {"ticker": "AAPL"})["job_id"]
    first.wait_done(job_id)

    second = watcher(app)
    assert second.emit("subscribe", {"job_id": job_id}) == {"job_id": job_id, "state": "completed"}
    second.wait_done(job_id)
    replayed = second.of(job_id)
    assert stages(replayed) == STAGE_ORDER
    assert streamed_text(replayed) == streamed_text(first.of(job_id))
    # On replay, each run of tokens for one section comes as one event.
    assert not any(
        a[0] == b[0] == "token" and a[1]["section"] == b[1]["section"]
        for a, b in pairwise(replayed)
    )


def test_two_browsers_see_the_same_stream_joining_mid_generation(
    make_app, remote_env, watcher, ollama
) -> None:
    slow(ollama)
    app = make_app(**remote_env)
    first, second = watcher(app), watcher(app)
    job_id = first.emit("generate", {"ticker": "AAPL"})["job_id"]
    first.wait_for("token", lambda p: p["job_id"] == job_id)
    second.emit("subscribe", {"job_id": job_id})
    first.wait_done(job_id, timeout=30)
    second.wait_done(job_id, timeout=30)

    late = second.of(job_id)
    assert streamed_text(late) == streamed_text(first.of(job_id))
    assert stages(late) == STAGE_ORDER
    assert late[-1][1]["seq"] == first.of(job_id)[-1][1]["seq"]


def test_a_job_outlives_the_socket_that_started_it(make_app, remote_env, watcher, ollama) -> None:
    slow(ollama, 0.01)
    app = make_app(**remote_env)
    starter = watcher(app)
    job_id = starter.emit("generate", {"ticker": "AAPL"})["job_id"]
    starter.client.disconnect()

    http = app.test_client()
    deadline = time.monotonic() + 30
    while (state := http.get(f"/api/jobs/{job_id}").json["state"]) not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state == "completed"
    report_id = http.get(f"/api/jobs/{job_id}").json["report_id"]
    assert http.get(f"/api/reports/{report_id}").status_code == 200


def test_cancel_stops_the_generation(make_app, remote_env, watcher, ollama) -> None:
    slow(ollama, 0.2)
    app = make_app(**remote_env)
    client = watcher(app)
    job_id = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    client.wait_for("token", lambda p: p["job_id"] == job_id)
    assert client.emit("cancel", {"job_id": job_id}) == {"job_id": job_id, "cancelling": True}

    done = client.wait_done(job_id, timeout=10)
    assert done["event"] == "failed" and done["code"] == "cancelled"
    assert stages(client.of(job_id))[-1] == "cancelled"
    assert app.extensions["ert"].store.recent() == []
    assert client.emit("cancel", {"job_id": job_id})["error"]["code"] == "not_cancellable"


def test_reports_over_the_limit_queue_with_their_position(
    make_app, remote_env, watcher, ollama
) -> None:
    slow(ollama, 0.01)
    app = make_app(ERT_MAX_CONCURRENT_REPORTS="1", **remote_env)
    client = watcher(app)
    first = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    second = client.emit("generate", {"ticker": "AAPL"})["job_id"]

    queued = client.wait_for("progress", lambda p: p["job_id"] == second and p["stage"] == "queued")
    assert queued["queue_position"] == 1 and "position 1" in queued["message"]
    assert app.test_client().get(f"/api/jobs/{second}").json["queue_position"] == 1
    assert client.wait_done(first, timeout=30)["event"] == "completed"
    assert client.wait_done(second, timeout=30)["event"] == "completed"
    first_done = max(p["seq"] for _, p in client.of(first))
    assert first_done > 0 and stages(client.of(second))[0] == "queued"


@pytest.mark.parametrize(
    ("ticker", "code"),
    [("", "invalid_ticker"), ("AAPL<script>", "invalid_ticker"), (42, "invalid_ticker")],
)
def test_generate_refuses_bad_tickers_in_its_ack(make_app, watcher, ticker, code) -> None:
    client = watcher(make_app())
    ack = client.emit("generate", {"ticker": ticker})
    assert ack["error"]["code"] == code and ack["error"]["message"]
    assert client.emit("generate", "AAPL")["error"]["code"] == "invalid_request"
    assert (
        client.emit("generate", {"ticker": "AAPL", "model": "nope"})["error"]["code"]
        == "unknown_model"
    )


def test_a_ticker_that_is_not_bundled_fails_with_choices(make_app, watcher) -> None:
    client = watcher(make_app())  # ERT_DATA_SOURCE=snapshot
    job_id = client.emit("generate", {"ticker": "AAPLE"})["job_id"]
    done = client.wait_done(job_id)
    assert done["event"] == "failed" and done["code"] == "not_bundled"
    assert [s["ticker"] for s in done["suggestions"]] == ["AAPL"]
    assert len(done["alternatives"]) == 10 and done["alternatives"][0]["name"] == "Apple Inc."
    assert "Traceback" not in done["message"]


def test_subscribe_to_an_unknown_job_says_so(make_app, watcher) -> None:
    client = watcher(make_app())
    assert client.emit("subscribe", {"job_id": "nope"})["error"]["code"] == "unknown_job"
    assert client.emit("subscribe", None)["error"]["code"] == "unknown_job"


def test_an_unexpected_error_in_a_handler_is_acknowledged_without_details(
    make_app, watcher, monkeypatch
) -> None:
    app = make_app()

    def broken(spec: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.extensions["ert"].jobs, "submit", broken)
    ack = watcher(app).emit("generate", {"ticker": "AAPL"})
    assert ack == {
        "error": {"code": "internal_error", "message": "Something went wrong; try again"}
    }


def test_the_percentage_follows_the_text_while_sections_are_written(
    make_app, remote_env, watcher, ollama
) -> None:
    long_text = Reply(text=" ".join(["Revenue grew steadily"] * 60), chunk_delay=0.008)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else long_text
    client = watcher(make_app(**remote_env))
    job_id = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    client.wait_done(job_id, timeout=30)
    events = client.of(job_id)
    first_section = next(i for i, (name, _) in enumerate(events) if name == "section")
    moving = [
        p["percent"]
        for name, p in events[:first_section]
        if name == "progress" and "sections written" in p["message"]
    ]
    assert moving and 25 < max(moving) < 90
    percents = [p["percent"] for name, p in events if name == "progress"]
    assert percents == sorted(percents)


@pytest.mark.parametrize("event", ["generate", "cancel", "subscribe"])
def test_an_event_with_a_none_payload_or_none_at_all_gets_a_clean_error_ack(
    make_app, watcher, event, caplog
) -> None:
    client = watcher(make_app())
    expected = {"generate": "invalid_request", "cancel": "invalid_request"}.get(
        event, "unknown_job"
    )
    with_none = client.emit(event, None)
    without = client.client.emit(event, callback=True)
    for ack in (with_none, without):
        assert ack["error"]["code"] == expected and ack["error"]["message"]
    assert "Traceback" not in caplog.text and "internal_error" not in str(without)


@pytest.mark.parametrize("model", [0, False, "", [], {"name": "gpt-oss:20b"}])
def test_a_model_that_is_not_an_offered_name_is_refused_not_taken_as_the_default(
    make_app, watcher, model
) -> None:
    app = make_app()
    ack = watcher(app).emit("generate", {"ticker": "AAPL", "model": model})
    assert ack["error"]["code"] == "unknown_model"
    answer = app.test_client().post("/api/reports", json={"ticker": "AAPL", "model": model})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "unknown_model"
    assert app.extensions["ert"].jobs.counts()["active"] == 0
