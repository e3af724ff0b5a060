"""The report writer on its own, with an in-memory engine: limits, cancellation, failures,
the schedule, degenerate text, the check's verdicts and the ratings it withholds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from tests.vast_ai.conftest import report_body
from vast_ai.engines.base import (
    ChatChunk,
    ChatRequest,
    ChunkUsage,
    FinishReason,
    ModelNotPulled,
)
from vast_ai.grounding import match
from vast_ai.schemas import ErrorEvent, ReportRequest, ReportResponse
from vast_ai.writer import ReportWriter

pytestmark = pytest.mark.anyio

RATING = '{"recommendation": "buy", "conviction": "low", "summary": "Cheap."}'
ANALYTICAL = ["financial_analysis", "valuation", "risks", "investment_thesis"]


class ScriptedEngine:
    """Answers every chat with `answer(request)`, word by word, `delay` seconds apart, and
    keeps the requests it was given."""

    name = "scripted"

    def __init__(
        self,
        answer: Callable[[ChatRequest], str] | None = None,
        delay: float = 0.0,
        *,
        demo: bool = False,
        follows_instructions: bool = True,
        finish_reason: FinishReason = "stop",
    ) -> None:
        self.answer = answer or (
            lambda request: RATING if request.json_schema else "Revenue was $391.0B."
        )
        self.delay = delay
        self.demo = demo
        self.follows_instructions = follows_instructions
        self.finish_reason: FinishReason = finish_reason
        self.requests: list[ChatRequest] = []
        self.open = 0
        self.max_open = 0
        self.closed_early = 0
        self.words_sent = 0

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        self.requests.append(request)
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        finished = False
        try:
            yield ChatChunk(usage=ChunkUsage(prompt_tokens=5, cached_prompt_tokens=40))
            for word in self.answer(request).split(" "):
                await asyncio.sleep(self.delay)
                self.words_sent += 1
                yield ChatChunk(text=word + " ")
            usage = ChunkUsage(
                prompt_tokens=5, completion_tokens=3, eval_seconds=0.1, cached_prompt_tokens=40
            )
            yield ChatChunk(done=True, usage=usage, finish_reason=self.finish_reason)
            finished = True
        finally:
            self.open -= 1
            self.closed_early += not finished

    def sections_asked(self) -> list[str]:
        return [r.task.section for r in self.requests if r.task is not None]

    async def list_models(self) -> list[str]:
        return ["m"]

    async def model_digest(self, model: str) -> str | None:
        return "sha256:abc"

    async def processor(self, model: str) -> None:
        return None

    async def close(self) -> None:
        return None


def by_section(
    texts: dict[str, str], default: str = "Revenue was $391.0B."
) -> Callable[[ChatRequest], str]:
    """An answer per task section ("rating" too), `default` for the others."""

    def answer(request: ChatRequest) -> str:
        section = request.task.section if request.task else ""
        return texts.get(section, RATING if request.json_schema else default)

    return answer


def request(**overrides: object) -> ReportRequest:
    return ReportRequest.model_validate(report_body(**overrides))


async def test_one_limit_is_shared_by_all_reports() -> None:
    engine = ScriptedEngine(delay=0.002)
    writer = ReportWriter(engine, concurrency_limit=3)

    reports = await asyncio.gather(*(writer.write(request(), "m") for _ in range(3)))

    assert all(r.success for r in reports)
    assert engine.max_open == 3


async def test_closing_events_early_cancels_the_engine_streams() -> None:
    engine = ScriptedEngine(delay=0.05)
    writer = ReportWriter(engine, concurrency_limit=4)
    events = writer.events(request(), "m")

    async for event in events:
        if event.type == "token":
            break
    await events.aclose()
    await asyncio.sleep(0)

    assert engine.open == 0
    assert engine.closed_early == 4  # the four sections running when the reader left


async def test_fatal_engine_error_ends_the_report() -> None:
    class MissingModel(ScriptedEngine):
        async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
            raise ModelNotPulled(request.model)
            yield ChatChunk()  # pragma: no cover  (makes this an async generator)

    writer = ReportWriter(MissingModel(), concurrency_limit=2)

    events = [event async for event in writer.events(request(), "gpt-oss:20b")]
    assert events[0].type == "started"
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "model_not_pulled"
    with pytest.raises(ModelNotPulled):
        await writer.write(request(), "gpt-oss:20b")


async def test_empty_answer_fails_the_section_without_error_text() -> None:
    engine = ScriptedEngine(answer=lambda r: RATING if r.json_schema else "")
    report = await ReportWriter(engine, concurrency_limit=2).write(request(sections=["risks"]), "m")

    section = report.sections["risks"]
    assert section.status == "failed" and section.markdown == ""
    assert section.error is not None and section.error.code == "empty_answer"
    assert report.success is False
    # No rating rests on sections that all failed (the model would have said "buy").
    assert report.rating.recommendation == "not_rated"
    assert report.rating.withheld == "sections_failed"


async def test_prompt_hash_identifies_the_prompts() -> None:
    writer = ReportWriter(ScriptedEngine(), concurrency_limit=2)
    first = await writer.write(request(), "m")
    same = await writer.write(request(), "m")
    other = await writer.write(request(fact_sheet=[]), "m")

    assert first.metadata.prompt_hash == same.metadata.prompt_hash != other.metadata.prompt_hash
    assert first.metadata.model_digest == "sha256:abc" and first.metadata.engine == "scripted"


async def test_generation_timeout_ends_the_report() -> None:
    writer = ReportWriter(ScriptedEngine(delay=1.0), concurrency_limit=2, generation_timeout=0.05)
    events = [event async for event in writer.events(request(sections=["risks"]), "m")]

    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "generation_timeout"


async def test_a_fact_without_a_number_reaches_the_data_only_writer() -> None:
    from vast_ai.engines.data_only import DataOnlyEngine

    word_fact = {"key": "recommendation", "label": "Analyst view", "value": None, "display": "Buy"}
    body = report_body(fact_sheet=[*report_body()["fact_sheet"], word_fact])
    report = await ReportWriter(DataOnlyEngine(), concurrency_limit=2).write(
        ReportRequest.model_validate(body), "data-only"
    )
    assert report.success, {k: s.error for k, s in report.sections.items()}
    assert all(section.status == "ok" for section in report.sections.values())


async def write(engine: ScriptedEngine, **overrides: object) -> ReportResponse:
    return await ReportWriter(engine, concurrency_limit=4).write(request(**overrides), "m")


# --- engines receive the task ---------------------------------------------------------


async def test_engines_receive_the_structured_task_beside_the_messages() -> None:
    engine = ScriptedEngine()
    await write(engine)

    tasks = {r.task.section: r.task for r in engine.requests if r.task is not None}
    assert set(tasks) == {*ANALYTICAL, "business_overview", "executive_summary", "rating"}
    valuation = tasks["valuation"]
    assert (valuation.ticker, valuation.company) == ("AAPL", "Apple Inc.")
    assert [f.key for f in valuation.facts] == ["revenue", "pe_ratio", "net_margin"]
    assert valuation.profile == {"sector": "Technology"} and not valuation.context
    assert set(tasks["executive_summary"].context) == set(ANALYTICAL)
    assert tasks["rating"].context == tasks["executive_summary"].context


# --- the schedule ---------------------------------------------------------------------


async def test_summary_and_rating_start_when_the_analytical_sections_are_done() -> None:
    engine = ScriptedEngine(delay=0.01)
    report = await ReportWriter(engine, concurrency_limit=4).write(request(), "m")

    asked = engine.sections_asked()
    assert set(asked[:4]) == set(ANALYTICAL)  # the four the summary reads go first
    assert asked[4] == "business_overview"
    # The overview was still being written when the summary and the rating started: all
    # three ran at once, and the summary did not read it.
    assert engine.max_open == 4 and set(asked[5:]) == {"executive_summary", "rating"}
    summary_task = next(r.task for r in engine.requests if r.task.section == "executive_summary")
    assert "business_overview" not in summary_task.context
    assert report.success


async def test_the_summary_reads_only_sections_that_passed_the_check() -> None:
    engine = ScriptedEngine(answer=by_section({"valuation": "It trades at 77.7x and 88.8x."}))
    report = await write(engine)

    assert report.sections["valuation"].status == "failed_check"
    summary_task = next(r.task for r in engine.requests if r.task.section == "executive_summary")
    assert set(summary_task.context) == {"financial_analysis", "risks", "investment_thesis"}


async def test_no_summary_when_none_of_its_sections_passed() -> None:
    engine = ScriptedEngine(answer=by_section({}, default="Sales were $777.7B."))
    report = await write(engine)

    summary = report.sections["executive_summary"]
    assert summary.status == "failed" and summary.error and summary.error.code == "no_sections"
    assert summary.replacement is not None
    assert "executive_summary" not in engine.sections_asked()


# --- the check's verdict --------------------------------------------------------------


async def test_a_draft_that_still_fails_the_check_is_not_shown_as_clean_prose() -> None:
    answer = by_section({"valuation": "It trades at 77.7x sales and 29.5x earnings."})
    report = await write(ScriptedEngine(answer=answer), sections=["valuation"])

    section = report.sections["valuation"]
    assert section.status == "failed_check" and report.success is False
    assert section.markdown.startswith("It trades at 77.7x")  # kept, for the reader to see
    assert section.error is not None and section.error.code == "failed_check"
    assert section.error.message.startswith("1 of 2 figures failed the check against the data")
    assert "77.7x: " in section.error.message  # named, with what the data says
    # The data-only writer's text stands in, labelled as written by no model.
    assert section.replacement is not None and section.replacement.writer == "data_only"
    assert "no language model wrote this text" in section.replacement.markdown
    assert "29.5x" in section.replacement.markdown
    # The report's totals count the failing draft, not the replacement.
    assert (report.grounding.found, report.grounding.verified) == (2, 1)
    assert section.grounding.rewritten is True


async def test_a_rewrite_is_skipped_when_the_model_cannot_follow_it() -> None:
    engine = ScriptedEngine(
        answer=by_section({}, "Sales were $777.7B."), follows_instructions=False
    )
    report = await write(engine, sections=["risks"])

    assert engine.sections_asked().count("risks") == 1  # the same prompt could not help
    section = report.sections["risks"]
    assert section.status == "failed_check" and section.grounding.rewritten is False
    assert section.error and "not rewritten: this model does not follow" in section.error.message


async def test_a_rewrite_tells_the_model_what_failed() -> None:
    answers = iter(["Sales were $777.7B.", "Revenue was $391.0B."])
    engine = ScriptedEngine(answer=lambda r: RATING if r.json_schema else next(answers))
    report = await write(engine, sections=["risks"])

    first, second = (r for r in engine.requests if r.task and r.task.section == "risks")
    assert first.task is not None and first.task.corrections == ()
    assert second.task is not None and second.task.corrections == (
        "$777.7B: not in the data: revenue (TTM) is $391.0B",
    )
    assert (first.temperature, first.seed) == (second.temperature, second.seed)
    assert second.messages != first.messages  # the prompt differs: the rewrite can differ
    assert report.sections["risks"].status == "ok"
    assert report.sections["risks"].markdown == "Revenue was $391.0B."


# --- degenerate text ------------------------------------------------------------------


async def test_a_looping_answer_is_stopped_and_cut_while_it_streams() -> None:
    loop = "Apple designs phones and sells services worldwide. " * 40
    engine = ScriptedEngine(answer=by_section({"risks": "Margins are thin. " + loop}))
    writer = ReportWriter(engine, concurrency_limit=4)
    events = [e async for e in writer.events(request(sections=["risks"]), "m")]

    report = events[-1].report
    section = report.sections["risks"]
    expected = "Margins are thin. Apple designs phones and sells services worldwide."
    assert section.markdown == expected
    assert [f.code for f in section.flags] == ["repetition_cut"]
    assert engine.words_sent < 25 and engine.closed_early == 1  # stopped, not run to the end
    streamed = "".join(e.text for e in events if e.type == "token")
    assert streamed.strip() == expected
    # The engine's early prompt counts survive the cut; the words received are counted.
    usage = section.usage
    assert (usage.prompt_tokens, usage.cached_prompt_tokens) == (5, 40)
    assert usage.completion_tokens == 3 + 7 + 7  # up to the end of the first repeat


async def test_a_section_cut_at_the_token_limit_is_flagged() -> None:
    engine = ScriptedEngine(answer=by_section({"risks": "Revenue was $391.0B and"}))
    engine.finish_reason = "length"
    report = await write(engine, sections=["risks"])

    flags = [f.code for f in report.sections["risks"].flags]
    assert flags == ["length_limit", "ends_mid_sentence"]
    assert report.sections["risks"].status == "ok"  # flagged, its figures checked as usual


# --- the rating -----------------------------------------------------------------------


async def test_a_demo_model_gets_no_rating_and_is_named_in_the_report() -> None:
    engine = ScriptedEngine(demo=True, follows_instructions=False)
    events = [e async for e in ReportWriter(engine, concurrency_limit=4).events(request(), "m")]

    report = events[-1].report
    assert report.rating.recommendation == "not_rated"
    assert report.rating.withheld == "demo_model" and "demo model" in report.rating.summary
    assert "rating" not in engine.sections_asked()  # not even asked
    assert report.metadata.demo_model is True and report.metadata.engine == "scripted"
    assert events[0].type == "started" and events[0].demo_model is True


@pytest.mark.parametrize(
    ("failing", "withheld"),
    [
        (set(ANALYTICAL), "sections_failed"),  # all failed: never "hold" from nothing
        ({"financial_analysis", "valuation", "risks"}, "sections_failed"),  # most failed
        ({"valuation"}, None),  # one failed: rated from the other three
    ],
)
async def test_the_rating_is_withheld_when_most_sections_failed(
    failing: set[str], withheld: str | None
) -> None:
    def answer(request: ChatRequest) -> str:
        if request.json_schema:
            return RATING.replace("buy", "hold")
        return "" if request.task and request.task.section in failing else "Revenue was $391.0B."

    engine = ScriptedEngine(answer=answer)
    report = await write(engine)

    assert report.rating.withheld == withheld
    assert ("rating" in engine.sections_asked()) is (withheld is None)
    if withheld is None:
        assert report.rating.recommendation == "hold"
        rating_task = next(r.task for r in engine.requests if r.json_schema)
        assert set(rating_task.context) == set(ANALYTICAL) - failing


async def test_a_rating_resting_on_text_that_failed_the_check_is_withheld() -> None:
    engine = ScriptedEngine(answer=by_section({"investment_thesis": "Worth 99.9x; 88.8x."}))
    report = await write(engine)

    assert report.rating.withheld == "failed_check"
    assert "Investment Thesis" in report.rating.summary


async def test_a_rating_whose_own_summary_fails_the_check_is_withheld() -> None:
    made_up = '{"recommendation": "buy", "conviction": "high", "summary": "Worth 55.5x."}'
    report = await write(ScriptedEngine(answer=by_section({"rating": made_up})))
    assert report.rating.withheld == "failed_check"
    assert report.rating.recommendation == "not_rated"


# --- usage, facts, errors -------------------------------------------------------------


async def test_usage_counts_cached_prompt_tokens_apart() -> None:
    report = await write(ScriptedEngine(), sections=["risks"])
    assert report.usage.prompt_tokens == 2 * 5  # the section and the rating
    assert report.usage.cached_prompt_tokens == 2 * 40


async def test_without_a_fact_sheet_the_facts_are_read_from_the_data() -> None:
    engine = ScriptedEngine(answer=by_section({}, "Apple is worth $3.00T."))
    report = await write(
        engine,
        sections=["valuation"],
        fact_sheet=[],
        company_data={"longName": "Apple Inc."},
        financial_data={"marketCap": 3_000_000_000_000},
    )

    assert [f.key for f in report.derived_facts] == ["marketCap"]
    assert report.derived_facts[0].display == "$3.00T"
    task = engine.requests[0].task
    assert task is not None and task.facts == tuple(report.derived_facts)
    assert (
        "- Market capitalisation (latest quote): $3.00T"
        in engine.requests[0].messages[1]["content"]
    )
    assert report.sections["valuation"].grounding.verified == 1
    assert report.warnings == []


async def test_nothing_quotable_gives_a_warning() -> None:
    engine = ScriptedEngine()
    events = [
        e
        async for e in ReportWriter(engine, concurrency_limit=4).events(
            request(sections=["risks"], fact_sheet=[], financial_data={}), "m"
        )
    ]
    report = events[-1].report
    assert [w.code for w in report.warnings] == ["no_figures"]
    assert events[0].warnings == report.warnings
    assert report.derived_facts == []


async def test_an_unexpected_error_ends_the_stream_with_an_error_event() -> None:
    class Broken(ScriptedEngine):
        async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
            raise RuntimeError("a bug")
            yield ChatChunk()  # pragma: no cover  (makes this an async generator)

    events = [e async for e in ReportWriter(Broken(), concurrency_limit=2).events(request(), "m")]
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "internal_error"
    assert "a bug" not in events[-1].message


async def test_a_report_indexes_its_data_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every section, the summary and the rating are checked against one index of the
    fact sheet and raw data, also when the request has no market data."""
    built: list[object] = []

    class CountedIndex(match.FactIndex):
        def __init__(self, *args: Any) -> None:
            built.append(self)
            super().__init__(*args)

    monkeypatch.setattr(match, "FactIndex", CountedIndex)
    writer = ReportWriter(ScriptedEngine(), concurrency_limit=4)

    report = await writer.write(request(company_data={"name": "Indexed Once Inc."}), "m")

    assert report.success and report.grounding.found >= 6
    assert len(built) == 1
