"""The fallback chain of DESIGN.md, through the Socket.IO test client: remote GPU tier down,
then Ollama down, then the data-only writer; each step is announced to the browser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from werkzeug import Response

from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.frontend_app.conftest import API_KEY


def messages(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [p["message"] for n, p in events if n == "progress"]


def generate(
    app: Any, watcher: Any
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], Any]:
    client = watcher(app)
    job_id = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    done = client.wait_done(job_id, timeout=30)
    return done, client.of(job_id), app.extensions["ert"].store


def test_remote_down_falls_back_to_ollama_directly(make_app, watcher, ollama, down_url) -> None:
    app = make_app(
        REMOTE_LLM_INTEGRATION="true",
        ERT_LLM_BACKEND_URL=down_url,
        ERT_LLM_API_KEY=API_KEY,
        OLLAMA_INTEGRATION="true",
        OLLAMA_HOST=ollama.url,
    )
    app.extensions["ert"].remote.backoff = 0  # the retries of a refused connection, at once
    done, events, store = generate(app, watcher)

    assert done["event"] == "completed"
    said = messages(events)
    fallback = next(m for m in said if "Falling back" in m)
    assert "unreachable" in fallback and f"Ollama at {ollama.url}" in fallback
    assert sum("trying again" in m for m in said) == 2  # a refused connection is retryable
    assert store.get(done["report_id"]).integration == "ollama"
    assert ollama.chat_requests  # Ollama itself wrote it


def test_remote_and_ollama_down_fall_back_to_the_data_only_writer(
    make_app, watcher, down_url
) -> None:
    app = make_app(
        REMOTE_LLM_INTEGRATION="true",
        ERT_LLM_BACKEND_URL=down_url,
        ERT_LLM_API_KEY=API_KEY,
        OLLAMA_INTEGRATION="true",
        OLLAMA_HOST=down_url,
    )
    app.extensions["ert"].remote.backoff = 0
    done, events, store = generate(app, watcher)

    assert done["event"] == "completed"
    fallbacks = [m for m in messages(events) if "Falling back" in m]
    assert len(fallbacks) == 2
    assert "Ollama" in fallbacks[0] and "data-only writer" in fallbacks[1]
    stored = store.get(done["report_id"])
    assert stored.integration == "data_only"
    assert "no language model wrote this text" in stored.report["sections"]["valuation"]["markdown"]
    page = app.test_client().get(done["url"]).get_data(as_text=True)
    assert "data-only writer" in page


def test_a_wrong_key_is_not_retried_and_falls_back(make_app, watcher, gpu_tier) -> None:
    app = make_app(
        REMOTE_LLM_INTEGRATION="true",
        ERT_LLM_BACKEND_URL=gpu_tier,
        ERT_LLM_API_KEY="ert-wrong-key-wrong-key-wrong-key-xx",
    )
    done, events, store = generate(app, watcher)

    said = messages(events)
    assert not any("trying again" in m for m in said)
    fallback = next(m for m in said if "Falling back" in m)
    assert "refused the API key" in fallback and "ert-wrong" not in fallback
    assert done["event"] == "completed"
    assert store.get(done["report_id"]).integration == "data_only"


def test_with_no_llm_configured_the_data_only_writer_answers_at_once(make_app, watcher) -> None:
    app = make_app()
    done, events, _ = generate(app, watcher)
    assert done["event"] == "completed"
    assert not any("Falling back" in m for m in messages(events))


def test_ollama_direct_with_a_model_that_is_not_pulled_falls_back(make_app, watcher) -> None:
    with FakeOllama(models={"llama3.1:8b": "sha256:" + "0" * 64}) as only_llama:
        app = make_app(
            OLLAMA_INTEGRATION="true", OLLAMA_HOST=only_llama.url, ERT_MODELS="gpt-oss:20b"
        )
        done, events, store = generate(app, watcher)
    fallback = next(m for m in messages(events) if "Falling back" in m)
    assert "gpt-oss:20b" in fallback
    assert store.get(done["report_id"]).integration == "data_only"


def test_a_report_in_which_no_section_was_written_falls_back(
    make_app, watcher, remote_env, ollama
) -> None:
    broken = Reply(text="never shown", error_after=0, error="runner process has terminated")
    ollama.responder = lambda body: default_responder(body) if body.get("format") else broken
    done, events, store = generate(make_app(**remote_env), watcher)
    fallback = next(m for m in messages(events) if "Falling back" in m)
    assert "the GPU tier wrote no section" in fallback and "runner process" in fallback
    assert store.get(done["report_id"]).integration == "data_only"


def test_a_report_whose_sections_all_failed_the_check_is_kept_not_replaced(
    make_app, watcher, remote_env, ollama
) -> None:
    """A demo model that invents figures wrote every section; the check failed them all. The
    reader sees that attempt marked as failed, not a silent switch to the data-only writer."""
    invented = Reply(text="Sales were $777.7B and it trades at 88.8x earnings.")
    ollama.responder = lambda body: default_responder(body) if body.get("format") else invented
    done, events, store = generate(make_app(**remote_env), watcher)

    assert not any("Falling back" in m for m in messages(events))
    stored = store.get(done["report_id"])
    assert stored.integration != "data_only"
    statuses = {s["status"] for s in stored.report["sections"].values()}
    assert "failed_check" in statuses and "ok" not in statuses


def test_cancel_stops_the_in_process_writer(make_app, watcher, ollama) -> None:
    slow = Reply(text=" ".join(["word"] * 400), chunk_delay=0.05)
    ollama.responder = lambda body: default_responder(body) if body.get("format") else slow
    app = make_app(OLLAMA_INTEGRATION="true", OLLAMA_HOST=ollama.url)
    client = watcher(app)
    job_id = client.emit("generate", {"ticker": "AAPL"})["job_id"]
    client.wait_for("token", lambda p: p["job_id"] == job_id)
    client.emit("cancel", {"job_id": job_id})
    done = client.wait_done(job_id, timeout=10)
    assert done["event"] == "failed" and done["code"] == "cancelled"
    # The writer's streams to Ollama are closed, not left running.
    deadline = time.monotonic() + 5
    while ollama.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ollama.in_flight == 0


def openai_stream(body: dict[str, Any]) -> Iterator[str]:
    """An OpenAI-compatible streamed chat completion (server-sent events)."""
    if body.get("response_format"):
        words = ['{"recommendation": "hold", "conviction": "low", "summary": "Fair."}']
    else:
        words = ["Revenue ", "reached ", "$391.0B."]
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
    for word in words:
        choice = {"index": 0, "delta": {"content": word}, "finish_reason": None}
        yield f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"
    usage = {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}
    yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def test_the_openai_compatible_server_is_the_third_step(
    make_app, watcher, httpserver, down_url
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(
        {
            "object": "list",
            "data": [{"id": "local", "object": "model", "created": 0, "owned_by": "me"}],
        }
    )
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        lambda request: Response(
            openai_stream(request.get_json()), content_type="text/event-stream"
        )
    )
    app = make_app(
        REMOTE_LLM_INTEGRATION="true",
        ERT_LLM_BACKEND_URL=down_url,
        OLLAMA_INTEGRATION="true",
        OLLAMA_HOST=down_url,
        OPENAI_INTEGRATION="true",
        OPENAI_BASE_URL=httpserver.url_for("/v1"),
        OPENAI_API_KEY="sk-test-never-shown",
        OPENAI_MODEL="local",
    )
    app.extensions["ert"].remote.backoff = 0
    done, events, store = generate(app, watcher)

    fallbacks = [m for m in messages(events) if "Falling back" in m]
    assert len(fallbacks) == 2 and "OpenAI-compatible server" in fallbacks[1]
    assert done["event"] == "completed"
    stored = store.get(done["report_id"])
    assert stored.integration == "openai" and stored.model == "local"
    assert "$391.0B" in stored.report["sections"]["risks"]["markdown"]
    assert all("sk-test" not in p.get("message", "") for _, p in events)
