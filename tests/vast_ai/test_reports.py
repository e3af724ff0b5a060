"""Reports through the API against the fake Ollama: events, options, usage, thinking,
mid-stream errors and the rating's retry."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fakes.ollama import DEFAULT_TEXT, FakeOllama, Reply, rating_json
from tests.vast_ai.conftest import AUTH, report_body
from vast_ai.engines.ollama_engine import THINKING_BUDGET
from vast_ai.schemas import SECTION_IDS, ReportResponse, parse_event

pytestmark = pytest.mark.anyio


async def stream_events(client: httpx.AsyncClient, body: dict[str, Any]) -> list[Any]:
    response = await client.post("/generate_report/stream", headers=AUTH, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [parse_event(line) for line in response.text.splitlines()]


def is_rating_request(body: dict[str, Any]) -> bool:
    return bool(body.get("format"))


async def test_stream_event_order(client: httpx.AsyncClient) -> None:
    events = await stream_events(client, report_body())
    types = [e.type for e in events]

    assert types[0] == "started" and types[-1] == "done"
    assert types.count("rating") == 1 and types.index("rating") < len(types) - 1
    assert events[0].sections == list(SECTION_IDS)
    for sid in SECTION_IDS:
        started = next(
            i for i, e in enumerate(events) if e.type == "section_started" and e.section == sid
        )
        done = next(
            i for i, e in enumerate(events) if e.type == "section_done" and e.section.id == sid
        )
        tokens = [i for i, e in enumerate(events) if e.type == "token" and e.section == sid]
        assert tokens and started < min(tokens) and max(tokens) < done
    summary_start = next(
        i
        for i, e in enumerate(events)
        if e.type == "section_started" and e.section == "executive_summary"
    )
    # The summary reads the analytical sections: it starts once they are done, without
    # waiting for the business overview.
    analytical_done = [
        i
        for i, e in enumerate(events)
        if e.type == "section_done"
        and e.section.id not in ("executive_summary", "business_overview")
    ]
    assert max(analytical_done) < summary_start
    assert list(events[-1].report.sections) == list(SECTION_IDS)


async def test_streamed_tokens_add_up_to_the_section_text(client: httpx.AsyncClient) -> None:
    events = await stream_events(client, report_body(sections=["valuation"]))
    tokens = "".join(e.text for e in events if e.type == "token")
    section = events[-1].report.sections["valuation"]
    assert tokens.strip() == section.markdown == DEFAULT_TEXT


async def test_report_fields(client: httpx.AsyncClient, ollama: FakeOllama) -> None:
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks", "valuation"])
    )
    report = ReportResponse.model_validate(response.json())

    assert report.success is True
    assert list(report.sections) == ["valuation", "risks"]
    assert report.rating.recommendation == "hold" and report.rating.conviction == "medium"
    assert report.metadata.engine == "ollama"
    assert report.metadata.model_digest == ollama.models["gpt-oss:20b"].removeprefix("sha256:")
    assert len(report.metadata.prompt_hash) == 64
    assert report.metadata.versions["ert"] and report.metadata.versions["ollama_client"]
    assert report.metadata.finished_at >= report.metadata.started_at
    assert report.grounding.found == report.grounding.verified == 2  # $391.0B, twice


async def test_usage_comes_from_the_final_chunk(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["valuation"])
    )
    report = response.json()
    usage = report["sections"]["valuation"]["usage"]

    words = len(DEFAULT_TEXT.split())
    assert usage["completion_tokens"] == words  # the fake counts one token per word
    assert usage["prompt_tokens"] > 100
    assert usage["generation_seconds"] > 0 and usage["tokens_per_second"] > 0
    # The report adds the rating call (6 words of JSON) to the section.
    assert report["usage"]["completion_tokens"] == words + len(rating_json().split())


async def test_options_and_keep_alive_reach_ollama(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    options = {
        "temperature": 0.1,
        "seed": 7,
        "max_tokens_per_section": 300,
        "reasoning_effort": "medium",
    }
    await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"], options=options)
    )

    section, rating = ollama.chat_requests
    assert section["options"] == {
        "temperature": 0.1,
        "seed": 7,
        "num_predict": 300 + THINKING_BUDGET["medium"],  # gpt-oss thinks on its own budget
        "num_ctx": 8192,
    }
    assert section["keep_alive"] == "24h" and section["stream"] is True
    assert section["think"] == "medium"
    assert "format" not in section
    assert rating["format"]["properties"]["recommendation"]["enum"] == ["buy", "hold", "sell"]
    assert "$391.0B" in section["messages"][1]["content"]  # the fact sheet is in the prompt


async def test_default_options_are_deterministic(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"], model="llama3.1:8b")
    )

    section = ollama.chat_requests[0]
    assert section["model"] == "llama3.1:8b"
    assert section["options"]["seed"] == 42 and section["options"]["temperature"] <= 0.3
    assert "think" not in section  # only gpt-oss takes a think level


async def test_thinking_stays_out_of_the_report(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: Reply(
        text=rating_json() if is_rating_request(body) else "Margins held at 24.3%.",
        thinking="PRIVATE-REASONING the user wants margins",
    )
    response = await client.post("/generate_report/stream", headers=AUTH, json=report_body())

    assert "PRIVATE-REASONING" not in response.text
    report = parse_event(response.text.splitlines()[-1]).report
    assert report.sections["risks"].markdown == "Margins held at 24.3%."
    assert report.rating.recommendation == "hold"


async def test_error_line_mid_stream_fails_that_section_only(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        if is_rating_request(body):
            return Reply(text=rating_json())
        if 'write the "Valuation" section' in body["messages"][1]["content"]:
            return Reply(error_after=3, error="model runner has unexpectedly stopped")
        return Reply()

    ollama.responder = responder
    events = await stream_events(client, report_body())

    report = events[-1].report
    valuation = report.sections["valuation"]
    assert report.success is False
    assert valuation.status == "failed" and valuation.markdown == ""
    assert valuation.replacement is not None and "29.5x" in valuation.replacement.markdown
    assert valuation.error.code == "engine_stream_error"
    assert "model runner has unexpectedly stopped" in valuation.error.message
    assert all(s.status == "ok" for sid, s in report.sections.items() if sid != "valuation")
    assert all("Error" not in s.markdown for s in report.sections.values())
    assert [
        e.section.status for e in events if e.type == "section_done" and e.section.id == "valuation"
    ] == ["failed"]


@pytest.mark.parametrize(
    ("answers", "expected", "calls"),
    [
        (["not json", rating_json("buy", "high")], "buy", 2),
        (['{"recommendation": "strong buy"}', "{}"], "not_rated", 2),
        ([rating_json("sell", "low")], "sell", 1),
    ],
    ids=["retried", "not-rated", "first-time"],
)
async def test_rating_is_validated_and_retried_once(
    client: httpx.AsyncClient, ollama: FakeOllama, answers: list[str], expected: str, calls: int
) -> None:
    remaining = list(answers)
    ollama.responder = lambda body: (
        Reply(text=remaining.pop(0)) if is_rating_request(body) else Reply()
    )

    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"])
    )

    rating = response.json()["rating"]
    assert rating["recommendation"] == expected
    assert sum(1 for body in ollama.chat_requests if is_rating_request(body)) == calls
    if expected == "not_rated":
        assert rating["conviction"] is None and "does not invent" in rating["summary"]


async def test_unverified_figures_trigger_one_rewrite(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        if is_rating_request(body):
            return Reply(text=rating_json())
        if "A first draft stated figures" in body["messages"][1]["content"]:
            return Reply(text="Revenue reached $391.0B.")
        return Reply(text="Revenue reached $512.7B, up 88.8% on the year.")

    ollama.responder = responder
    events = await stream_events(client, report_body(sections=["financial_analysis"]))

    report = events[-1].report
    section = report.sections["financial_analysis"]
    assert section.markdown == "Revenue reached $391.0B."
    assert section.grounding.rewritten is True and section.grounding.unverified == 0
    assert report.grounding.sections_rewritten == ["financial_analysis"]
    rewrite_prompt = ollama.chat_requests[1]["messages"][1]["content"]
    # Each failing figure is named with what the data really says (the check's note).
    assert "- $512.7B: not in the data: revenue (TTM) is $391.0B" in rewrite_prompt
    assert "- 88.8%: the data has no revenue growth" in rewrite_prompt
    attempts = [e.attempt for e in events if e.type == "section_started"]
    assert attempts == [1, 2]
    assert section.usage.completion_tokens == 8 + 3  # both drafts count


async def test_rewrite_that_is_no_better_keeps_the_first_draft(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: Reply(
        text=rating_json() if is_rating_request(body) else "Sales were $777.7B."
    )
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["valuation"])
    )

    section = response.json()["sections"]["valuation"]
    assert section["markdown"] == "Sales were $777.7B."
    assert section["grounding"]["unverified"] == 1 and section["grounding"]["rewritten"] is True
    assert (
        len([b for b in ollama.chat_requests if not is_rating_request(b)]) == 2
    )  # once more, not twice


async def test_executive_summary_is_written_from_the_other_sections(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: Reply(
        text=rating_json() if is_rating_request(body) else "Distinctive sentence number 24.3%."
    )
    await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["executive_summary", "risks"])
    )

    summary_prompt = next(
        b["messages"][1]["content"]
        for b in ollama.chat_requests
        if "Executive Summary" in b["messages"][1]["content"]
    )
    assert "### Risks\nDistinctive sentence number 24.3%." in summary_prompt


async def test_data_only_engine_writes_a_labelled_report(
    make_client: Any, ollama: FakeOllama
) -> None:
    client = make_client(ert_engine="data_only")
    response = await client.post("/generate_report/stream", headers=AUTH, json=report_body())
    events = [json.loads(line) for line in response.text.splitlines()]
    report = ReportResponse.model_validate(events[-1]["report"])

    assert [e["type"] for e in events][:2] == ["started", "section_started"]
    assert report.success is True and report.model == "data-only"
    assert report.metadata.engine == "data_only"
    assert report.rating.recommendation == "not_rated"
    assert report.rating.withheld == "no_language_model"
    assert report.metadata.demo_model is False and report.metadata.processor is None
    assert all("no language model wrote this text" in s.markdown for s in report.sections.values())
    assert "$391.0B" in report.sections["financial_analysis"].markdown
    assert "29.5x" in report.sections["valuation"].markdown
    assert report.grounding.unverified == 0 and report.grounding.verified > 0
    assert ollama.paths == []


# --- hostile input and faults answered cleanly -----------------------------------------


@pytest.mark.parametrize("endpoint", ["/generate_report", "/generate_report/stream"])
async def test_a_lone_surrogate_in_the_company_name_is_answered_cleanly(
    client: httpx.AsyncClient, ollama: FakeOllama, endpoint: str
) -> None:
    raw = json.dumps(report_body(sections=["risks"])).replace('"Apple Inc."', '"Apple \\ud800Inc."')
    response = await client.post(
        endpoint, headers={**AUTH, "Content-Type": "application/json"}, content=raw
    )

    assert response.status_code == 200
    last = (
        response.json()
        if endpoint == "/generate_report"
        else json.loads(response.text.splitlines()[-1])["report"]
    )
    assert last["sections"]["risks"]["status"] == "ok"
    prompt = ollama.chat_requests[0]["messages"][1]["content"]
    assert "Apple \ufffdInc." in prompt  # sent to the model as a replacement character


async def test_a_line_from_ollama_that_is_not_json_fails_its_section(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: (
        Reply(text=rating_json()) if is_rating_request(body) else Reply(bad_line_after=2)
    )
    events = await stream_events(client, report_body(sections=["risks"]))

    report = events[-1].report
    risks = report.sections["risks"]
    assert risks.status == "failed" and risks.error.code == "engine_stream_error"
    assert "not a chat chunk" in risks.error.message
    assert risks.replacement is not None  # the figures from the data stand in


async def test_no_hold_is_issued_when_every_section_failed(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: (
        Reply(text=rating_json("hold")) if is_rating_request(body) else Reply(error_after=0)
    )
    response = await client.post("/generate_report", headers=AUTH, json=report_body())

    report = ReportResponse.model_validate(response.json())
    assert all(s.status == "failed" for s in report.sections.values())
    assert report.rating.recommendation == "not_rated"
    assert report.rating.withheld == "sections_failed" and "none of the" in report.rating.summary
    assert not any(is_rating_request(body) for body in ollama.chat_requests)


# --- the model's budget, the context length, where it runs --------------------------------


async def test_the_answer_has_its_own_budget_beside_the_thinking(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    ollama.responder = lambda body: (
        Reply(text=rating_json())
        if is_rating_request(body)
        else Reply(text=words, thinking="think " * 30)
    )
    options = {"max_tokens_per_section": 16, "reasoning_effort": "low"}
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"], options=options)
    )

    request = ollama.chat_requests[0]
    assert request["options"]["num_predict"] == 16 + THINKING_BUDGET["low"]
    risks = response.json()["sections"]["risks"]
    assert risks["markdown"] == " ".join(f"w{i}" for i in range(16))  # 16 tokens of text
    assert [f["code"] for f in risks["flags"]] == ["length_limit", "ends_mid_sentence"]


async def test_a_section_ollama_ended_at_its_limit_is_flagged(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: (
        Reply(text=rating_json())
        if is_rating_request(body)
        else Reply(text="Revenue reached $391.0B and then", done_reason="length")
    )
    response = await client.post(
        "/generate_report", headers=AUTH, json=report_body(sections=["risks"], model="llama3.1:8b")
    )
    flags = [f["code"] for f in response.json()["sections"]["risks"]["flags"]]
    assert flags == ["length_limit", "ends_mid_sentence"]


async def test_every_request_asks_for_the_configured_context_length(
    make_client: Any, ollama: FakeOllama
) -> None:
    client = make_client(ollama_context_length=4096)
    await client.post("/generate_report", headers=AUTH, json=report_body())

    assert len(ollama.loads) == 7
    assert {load["num_ctx"] for load in ollama.loads} == {4096}
    assert ollama.reloads == 0


async def test_the_report_says_what_wrote_it_and_where(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    events = await stream_events(client, report_body(sections=["risks"]))
    report = events[-1].report
    assert (report.metadata.engine, report.model) == ("ollama", "gpt-oss:20b")
    assert report.metadata.demo_model is False
    assert report.metadata.processor == "gpu"  # Ollama holds it in GPU memory (/api/ps)
    assert events[0].engine == "ollama" and events[0].demo_model is False
    # Ollama counts only the prompt tokens it evaluated; the cache's are not known.
    assert report.usage.cached_prompt_tokens is None


# --- curl users ------------------------------------------------------------------------


CURL_BODY = {
    "ticker": "AAPL",
    "company_data": {"longName": "Apple Inc."},
    "financial_data": {"marketCap": 3000000000000},
}


async def test_the_documented_curl_call_gets_a_grounded_report(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: Reply(
        text=rating_json() if is_rating_request(body) else "Apple is valued at $3.00T."
    )
    response = await client.post("/generate_report", headers=AUTH, json=CURL_BODY)

    assert response.status_code == 200
    report = ReportResponse.model_validate(response.json())
    assert [(f.key, f.display, f.unit) for f in report.derived_facts] == [
        ("marketCap", "$3.00T", "currency")
    ]
    prompt = ollama.chat_requests[0]["messages"][1]["content"]
    assert "Company: Apple Inc. (AAPL)" in prompt
    assert "- Market capitalisation (latest quote): $3.00T" in prompt
    assert report.grounding.found == report.grounding.verified == 6  # once per section
    assert report.sections["valuation"].grounding.figures[0].fact_key == "marketCap"
    assert report.warnings == []


async def test_a_curl_call_with_nothing_quotable_carries_a_warning(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    body = {**CURL_BODY, "financial_data": {}}
    response = await client.post("/generate_report", headers=AUTH, json=body)

    report = ReportResponse.model_validate(response.json())
    assert [w.code for w in report.warnings] == ["no_figures"]
    assert "no fact_sheet" in report.warnings[0].message
    assert report.derived_facts == []
    prompt = ollama.chat_requests[0]["messages"][1]["content"]
    assert "Figures: none are available" in prompt
