"""The prompts are laid out shared-first, so a model server reuses their cached prefix."""

from __future__ import annotations

from tests.vast_ai.conftest import report_body
from vast_ai.engines.base import RATING_TASK
from vast_ai.schemas import Fact, ReportRequest
from vast_ai.writer.prompts import build_task, chat_messages, company_profile, fact_line

REQUEST = ReportRequest.model_validate(
    report_body(company_data={"name": "Apple Inc.", "sector": "Technology", "summary": "Phones."})
)
BODY = ["business_overview", "financial_analysis", "valuation", "risks", "investment_thesis"]


def user_prompt(section: str, **task: object) -> str:
    messages = chat_messages(build_task(section, REQUEST, REQUEST.fact_sheet, **task))  # type: ignore[arg-type]
    assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
    return messages[1]["content"]


def test_body_prompts_share_all_but_their_last_part() -> None:
    prompts = [chat_messages(build_task(sid, REQUEST, REQUEST.fact_sheet)) for sid in BODY]
    assert len({p[0]["content"] for p in prompts}) == 1  # one system prompt
    parts = [p[1]["content"].split("\n\n") for p in prompts]
    assert len({tuple(part[:-1]) for part in parts}) == 1  # the same shared part
    assert len({part[-1] for part in parts}) == len(BODY)  # each its own instruction
    for sid, part in zip(BODY, parts, strict=True):
        assert part[-1].startswith("Task: write the") and sid.split("_")[0] in part[-1].lower()
    shared = "\n\n".join(parts[0][:-1])
    assert "Company: Apple Inc. (AAPL)" in shared and "Description: Phones." in shared


def test_facts_are_one_compact_line_each_with_label_and_period() -> None:
    prompt = user_prompt("valuation")
    assert "- Revenue (TTM): $391.0B\n- P/E ratio: 29.5x\n- Net margin: 24.3%" in prompt
    assert '"value"' not in prompt and "391000000000" not in prompt  # no raw values
    peer = Fact(key="peer_pe", label="P/E", display="31.2x", period="TTM", subject="MSFT")
    assert fact_line(peer) == "- MSFT P/E (TTM): 31.2x"


def test_summary_and_rating_read_the_sections_after_the_shared_part() -> None:
    context = {"valuation": "Cheap at 29.5x.", "risks": "Competition."}
    summary = user_prompt("executive_summary", context=context)
    rating = user_prompt(RATING_TASK, context=context)
    shared = user_prompt("valuation").rsplit("\n\n", 1)[0]
    sections = "### Valuation\nCheap at 29.5x.\n\n### Risks\nCompetition."
    for prompt in (summary, rating):
        assert prompt.startswith(shared)
        assert sections in prompt
    # The two share everything up to their instruction.
    assert summary.rsplit("\n\n", 1)[0] == rating.rsplit("\n\n", 1)[0]
    assert rating.endswith("quoting only listed figures}.")


def test_a_rewrite_names_each_failing_figure_after_the_instruction() -> None:
    first = user_prompt("valuation")
    rewrite = user_prompt(
        "valuation", corrections=["24.3% is the net margin, not the operating margin"]
    )
    assert rewrite.startswith(first)  # the first draft's prompt is still a cached prefix
    assert "\n- 24.3% is the net margin, not the operating margin\n" in rewrite


def test_a_request_without_figures_says_so() -> None:
    request = ReportRequest.model_validate(report_body(fact_sheet=[]))
    prompt = chat_messages(build_task("risks", request, []))[1]["content"]
    assert "Figures: none are available; write without figures." in prompt


def test_a_long_description_is_cut_after_a_whole_sentence_not_mid_word() -> None:
    sentence = "Apple designs and sells smartphones, computers and services worldwide. "
    data = {"name": "Apple", "description": sentence * 40}
    description = company_profile(ReportRequest.model_validate(report_body(company_data=data)))[
        "description"
    ]
    assert 750 < len(description) <= 1500
    assert description.endswith("worldwide.")

    one_run_on = {"name": "Apple", "description": "word " * 600}
    clipped = company_profile(ReportRequest.model_validate(report_body(company_data=one_run_on)))[
        "description"
    ]
    assert clipped.endswith("word…") and len(clipped) <= 1500
