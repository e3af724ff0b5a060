"""The report writer on its own, with an in-memory engine: limits, cancellation, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from tests.vast_ai.conftest import report_body
from vast_ai.engines.base import ChatChunk, ChatRequest, ChunkUsage, ModelNotPulled
from vast_ai.schemas import ErrorEvent, ReportRequest
from vast_ai.writer import ReportWriter

pytestmark = pytest.mark.anyio

RATING = '{"recommendation": "buy", "conviction": "low", "summary": "Cheap."}'


class ScriptedEngine:
    """Answers every chat with `answer(request)`, word by word, `delay` seconds apart."""

    name = "scripted"

    def __init__(
        self, answer: Callable[[ChatRequest], str] | None = None, delay: float = 0.0
    ) -> None:
        self.answer = answer or (
            lambda request: RATING if request.json_schema else "Revenue was $391.0B."
        )
        self.delay = delay
        self.open = 0
        self.max_open = 0
        self.closed_early = 0

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        finished = False
        try:
            for word in self.answer(request).split(" "):
                await asyncio.sleep(self.delay)
                yield ChatChunk(text=word + " ")
            yield ChatChunk(
                done=True, usage=ChunkUsage(prompt_tokens=5, completion_tokens=3, eval_seconds=0.1)
            )
            finished = True
        finally:
            self.open -= 1
            self.closed_early += not finished

    async def list_models(self) -> list[str]:
        return ["m"]

    async def model_digest(self, model: str) -> str | None:
        return "sha256:abc"

    async def close(self) -> None:
        return None


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
        async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
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
    assert report.success is False and report.rating.recommendation == "buy"


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
