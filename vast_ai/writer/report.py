"""The report writer: sections in parallel, each checked and rewritten once if it must be,
then the executive summary and the rating from the analytical sections.

    writer = ReportWriter(engine, concurrency_limit=4, grounding_threshold=0.2,
                          engine_name=None, generation_timeout=None, num_ctx=8192,
                          token_window=0.0)
    async for event in writer.events(request, model): ...   # stream events of schemas.py
    report = await writer.write(request, model)              # or just the ReportResponse

Create ONE writer per engine and share it: its `concurrency_limit` bounds the model
calls of all reports together (set it to OLLAMA_NUM_PARALLEL). Plain arguments only,
no FastAPI and no settings, so the dashboard runs the same writer in-process.

Schedule: the analytical sections (financial analysis, valuation, risks, investment
thesis) start first and the business overview after them; the executive summary and the
rating start as soon as the analytical sections are done and read those that passed the
check, while the business overview is still being written (it is drawn from the same
company profile the summary sees). So the summary never waits for the fifth section.

Failures: Engine errors that doom every section (unreachable, model not pulled,
timeout) end the report: `write` raises them, `events` ends with an ErrorEvent.
Any other engine error fails its own section, reported with status "failed".
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from vast_ai import __version__
from vast_ai.engines.base import (
    RATING_TASK,
    ChatRequest,
    ChunkUsage,
    Engine,
    EngineError,
    EngineTimeout,
    EngineUnreachable,
    FinishReason,
    ModelNotPulled,
    Processor,
    ReportTask,
)
from vast_ai.engines.data_only import compose
from vast_ai.grounding import check_figures, failing_share, total_grounding
from vast_ai.schemas import (
    SECTION_IDS,
    SECTION_TITLES,
    DoneEvent,
    ErrorEvent,
    ErrorInfo,
    Event,
    Fact,
    Notice,
    Rating,
    RatingEvent,
    ReportMetadata,
    ReportRequest,
    ReportResponse,
    Section,
    SectionDoneEvent,
    SectionGrounding,
    SectionId,
    SectionReplacement,
    SectionStartedEvent,
    StartedEvent,
    Usage,
)
from vast_ai.writer import rating as ratings
from vast_ai.writer.checks import check_reason, corrections
from vast_ai.writer.degenerate import RepetitionGuard, ending_flags
from vast_ai.writer.events import EventBuffer, EventSink
from vast_ai.writer.facts import derive_facts
from vast_ai.writer.prompts import RATING_SCHEMA, Messages, build_task, chat_messages
from vast_ai.writer.usage import prompt_hash, total_usage, usage_of

log = logging.getLogger(__name__)

# Errors after which no other section can succeed either.
FATAL_ERRORS = (EngineUnreachable, ModelNotPulled, EngineTimeout)
SUMMARY: SectionId = "executive_summary"
# Written alongside the summary and the rating rather than read by them (see above).
OVERVIEW: SectionId = "business_overview"
DEFAULT_CONTEXT_LENGTH = 8192

NO_FIGURES = Notice(
    code="no_figures",
    message="The request has no fact_sheet, and no figure could be read from company_data, "
    "financial_data or market_data (yfinance .info keys such as marketCap or trailingPE): "
    "the text is written without figures.",
)
NOT_REWRITTEN = "It was not rewritten: this model does not follow instructions."


@dataclass
class _Draft:
    text: str
    usage: Usage
    finish_reason: FinishReason | None
    cut: bool  # a repeat was cut off


@dataclass
class _Run:
    """One report being written: its input, where its events go, what it has used."""

    request: ReportRequest
    model: str
    sink: EventSink
    facts: list[Fact]  # the request's fact sheet, or else the facts derived from its data
    derived: list[Fact]
    usage: list[Usage] = field(default_factory=list)
    prompts: list[Messages] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.sink.emit(event)

    def task(
        self,
        section: str,
        context: Mapping[str, str] | None = None,
        corrections: Sequence[str] = (),
    ) -> ReportTask:
        return build_task(
            section, self.request, self.facts, context=context, corrections=corrections
        )

    def check(self, text: str) -> SectionGrounding:
        return check_figures(text, self.facts, self.raw_data)

    @cached_property
    def raw_data(self) -> dict[str, Any]:
        """Built once: the check reuses its index of the raw data only for the same
        objects, and a new `{}` for absent market data made every check index it anew."""
        return {
            "company_data": self.request.company_data,
            "financial_data": self.request.financial_data,
            "market_data": self.request.market_data or {},
        }


def summary_sources(body: Sequence[SectionId]) -> list[SectionId]:
    """The body sections the executive summary and the rating read."""
    return [sid for sid in body if sid != OVERVIEW] or list(body)


class ReportWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        concurrency_limit: int,
        grounding_threshold: float = 0.2,
        engine_name: str | None = None,
        generation_timeout: float | None = None,
        num_ctx: int | None = DEFAULT_CONTEXT_LENGTH,
        token_window: float = 0.0,
    ) -> None:
        """`token_window`: seconds between two reads of `events` that carry tokens (see
        events.EventBuffer); 0 hands every token to a reader that is waiting."""
        self.engine = engine
        self.engine_name = engine_name or engine.name
        self.grounding_threshold = grounding_threshold
        self.generation_timeout = generation_timeout
        self.num_ctx = num_ctx
        self.token_window = token_window
        self._slots = asyncio.Semaphore(concurrency_limit)

    async def write(self, request: ReportRequest, model: str) -> ReportResponse:
        """The whole report; raises the EngineError that ended it, if one did."""
        return await self._generate(request, model, EventSink())

    async def events(self, request: ReportRequest, model: str) -> AsyncIterator[Event]:
        """The report as stream events, ending with DoneEvent or ErrorEvent.

        Closing the iterator early (a client that went away) cancels the generation.
        """
        async with aclosing(self.event_batches(request, model)) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    async def event_batches(
        self, request: ReportRequest, model: str
    ) -> AsyncGenerator[list[Event], None]:
        """The events as `events` gives them, in the batches that are ready together (a
        stream writes each batch at once); the last batch ends with DoneEvent or ErrorEvent.
        """
        buffer = EventBuffer(self.token_window)

        async def produce() -> None:
            try:
                buffer.emit(DoneEvent(report=await self._generate(request, model, buffer)))
            except EngineError as exc:
                buffer.emit(ErrorEvent(code=exc.code, message=exc.message, retryable=exc.retryable))
            except Exception:
                log.exception("report generation failed unexpectedly")
                buffer.emit(
                    ErrorEvent(
                        code="internal_error",
                        message="An unexpected error occurred; it has been logged",
                    )
                )

        task = asyncio.create_task(produce())
        try:
            while True:
                batch = await buffer.drain()
                yield batch
                if isinstance(batch[-1], DoneEvent | ErrorEvent):
                    return
        finally:
            task.cancel()
            # asyncio.wait, unlike `await task`, does not pass a repeated cancellation
            # (anyio cancel scopes repeat theirs) on to the task, whose clean-up, closing
            # the engine's stream, must run undisturbed.
            with suppress(asyncio.CancelledError):
                await asyncio.wait({task})

    async def _generate(
        self, request: ReportRequest, model: str, sink: EventSink
    ) -> ReportResponse:
        derived = (
            []
            if request.fact_sheet
            else derive_facts(request.financial_data, request.market_data, request.company_data)
        )
        facts = request.fact_sheet or derived
        run = _Run(request=request, model=model, sink=sink, facts=facts, derived=derived)
        try:
            async with asyncio.timeout(self.generation_timeout):
                return await self._compose(run)
        except TimeoutError:
            raise EngineTimeout(
                f"The report took longer than {self.generation_timeout:g} s and was stopped"
            ) from None

    async def _compose(self, run: _Run) -> ReportResponse:
        started_at, clock = datetime.now(UTC), time.perf_counter()
        report_id = uuid.uuid4().hex
        wanted = [sid for sid in SECTION_IDS if sid in run.request.sections]
        body = [sid for sid in wanted if sid != SUMMARY]
        sources = summary_sources(body)
        warnings = [] if run.facts else [NO_FIGURES]
        run.emit(
            StartedEvent(
                report_id=report_id,
                ticker=run.request.ticker,
                model=run.model,
                sections=wanted,
                engine=self.engine_name,
                demo_model=self.engine.demo,
                warnings=warnings,
            )
        )

        tasks: list[asyncio.Task[Any]] = []
        try:
            # Created in this order, the sources ask for a model slot first.
            source_tasks = [asyncio.create_task(self._section(run, sid)) for sid in sources]
            tasks += source_tasks
            rest = {
                sid: asyncio.create_task(self._section(run, sid))
                for sid in body
                if sid not in sources
            }
            tasks.extend(rest.values())
            read = dict(zip(sources, await _results(source_tasks), strict=True))
            passed: dict[str, str] = {
                sid: s.markdown for sid, s in read.items() if s.status == "ok"
            }
            rating_task = asyncio.create_task(self._rating(run, read, passed))
            tasks.append(rating_task)
            if SUMMARY in wanted:
                rest[SUMMARY] = asyncio.create_task(self._summary(run, read, passed))
                tasks.append(rest[SUMMARY])
            written = dict(zip(rest, await _results(list(rest.values())), strict=True))
            rating = await rating_task
            digest, processor = await asyncio.gather(
                self._digest(run.model), self._processor(run.model)
            )
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        done = {**read, **written}
        ordered: dict[str, Section] = {sid: done[sid] for sid in wanted}
        failed = sum(1 for s in ordered.values() if s.status == "failed")
        if rating.withheld is None and 2 * failed > len(ordered):
            rating = ratings.sections_failed(len(ordered) - failed, len(ordered))
        run.emit(RatingEvent(rating=rating))
        grounding = total_grounding(
            {sid: s.grounding for sid, s in ordered.items()}, self.grounding_threshold
        )
        return ReportResponse(
            success=all(s.status == "ok" for s in ordered.values()),
            report_id=report_id,
            ticker=run.request.ticker,
            model=run.model,
            sections=ordered,
            rating=rating,
            grounding=grounding,
            usage=total_usage(run.usage),
            metadata=ReportMetadata(
                started_at=started_at,
                finished_at=datetime.now(UTC),
                generation_time=round(time.perf_counter() - clock, 3),
                engine=self.engine_name,
                demo_model=self.engine.demo,
                processor=processor,
                model_digest=digest,
                prompt_hash=prompt_hash(run.prompts),
                options=run.request.options,
                versions=self._versions(),
            ),
            derived_facts=run.derived,
            warnings=warnings,
        )

    async def _summary(
        self, run: _Run, sources: Mapping[SectionId, Section], passed: Mapping[str, str]
    ) -> Section:
        """The executive summary, drawn from the source sections that passed the check."""
        if sources and not passed:
            run.emit(SectionStartedEvent(section=SUMMARY))
            return self._finish(
                run,
                Section(
                    id=SUMMARY,
                    title=SECTION_TITLES[SUMMARY],
                    status="failed",
                    error=ErrorInfo(
                        code="no_sections",
                        message="The executive summary draws on the other sections, and "
                        "none of them passed the check.",
                    ),
                ),
            )
        return await self._section(run, SUMMARY, passed)

    async def _section(
        self, run: _Run, sid: SectionId, context: Mapping[str, str] | None = None
    ) -> Section:
        """Write and check one section; rewrite it once if too many of its figures fail and
        the model can act on the corrections. `context`: the sections the summary reads."""
        title = SECTION_TITLES[sid]
        run.emit(SectionStartedEvent(section=sid))
        try:
            draft = await self._draft(run, sid, run.task(sid, context))
        except FATAL_ERRORS:
            raise
        except EngineError as exc:
            error = ErrorInfo(code=exc.code, message=exc.message)
            return self._finish(run, Section(id=sid, title=title, status="failed", error=error))
        grounding = run.check(draft.text)
        usage = [draft.usage]
        needs_rewrite = failing_share(grounding) > self.grounding_threshold
        if needs_rewrite and self.engine.follows_instructions:
            draft, grounding, usage = await self._rewrite(
                run, sid, context, draft, grounding, usage
            )
        section = Section(
            id=sid,
            title=title,
            markdown=draft.text,
            flags=ending_flags(
                draft.text,
                draft.finish_reason,
                run.request.options.max_tokens_per_section,
                cut=draft.cut,
            ),
            usage=total_usage(usage),
            grounding=grounding,
        )
        if failing_share(grounding) > self.grounding_threshold:
            skipped = None if grounding.rewritten else NOT_REWRITTEN
            reason = check_reason(grounding, not_rewritten=skipped)
            section.status = "failed_check"
            section.error = ErrorInfo(code="failed_check", message=reason)
        return self._finish(run, section)

    def _finish(self, run: _Run, section: Section) -> Section:
        """Give a section that is not ok the data-only writer's text, and announce it."""
        if section.status != "ok":
            text = compose(run.task(section.id))
            section.replacement = SectionReplacement(markdown=text)
        run.emit(SectionDoneEvent(section=section))
        return section

    async def _rewrite(
        self,
        run: _Run,
        sid: SectionId,
        context: Mapping[str, str] | None,
        first: _Draft,
        grounding: SectionGrounding,
        usage: list[Usage],
    ) -> tuple[_Draft, SectionGrounding, list[Usage]]:
        """Write the section once more naming each failing figure with what it really is;
        keep the better draft. `rewritten` is set once a second draft was asked for."""
        task = run.task(sid, context, corrections(grounding))
        run.emit(SectionStartedEvent(section=sid, attempt=2))
        try:
            second = await self._draft(run, sid, task)
        except FATAL_ERRORS:
            raise
        except EngineError:
            return first, grounding.model_copy(update={"rewritten": True}), usage
        second_grounding = run.check(second.text)
        usage = [*usage, second.usage]
        if failing_share(second_grounding) < failing_share(grounding):
            return second, second_grounding.model_copy(update={"rewritten": True}), usage
        return first, grounding.model_copy(update={"rewritten": True}), usage

    async def _rating(
        self, run: _Run, sources: Mapping[SectionId, Section], passed: Mapping[str, str]
    ) -> Rating:
        """The rating as schema-constrained JSON from the sections that passed the check:
        validated, retried once, else not rated; withheld when it would look better than
        the text it rests on."""
        if self.engine.demo:
            return ratings.DEMO_MODEL
        failed = sum(1 for s in sources.values() if s.status == "failed")
        if 2 * failed > len(sources):
            return ratings.sections_failed(len(sources) - failed, len(sources))
        unchecked = [s.title for s in sources.values() if s.status == "failed_check"]
        if unchecked:
            return ratings.failed_check(unchecked)
        task = run.task(RATING_TASK, passed)
        for _attempt in range(2):
            try:
                draft = await self._draft(run, None, task, json_schema=RATING_SCHEMA)
            except FATAL_ERRORS:
                raise
            except EngineError:
                continue
            rating = ratings.parse_rating(draft.text)
            if rating is None:
                continue
            if failing_share(run.check(rating.summary)) > self.grounding_threshold:
                return ratings.failed_check(["the rating's own summary"])
            return rating
        return ratings.NOT_RATED

    async def _draft(
        self,
        run: _Run,
        sid: SectionId | None,
        task: ReportTask,
        json_schema: dict[str, Any] | None = None,
    ) -> _Draft:
        """One model call under the shared limit. A section's tokens go out as events, and
        its text is watched for a repeat, where the call is stopped and the text cut."""
        messages = chat_messages(task)
        run.prompts.append(messages)
        options = run.request.options
        chat = ChatRequest(
            model=run.model,
            messages=messages,
            temperature=options.temperature,
            seed=options.seed,
            max_tokens=options.max_tokens_per_section,
            num_ctx=self.num_ctx,
            think=options.reasoning_effort,
            json_schema=json_schema,
            task=task,
        )
        guard = RepetitionGuard()
        pieces = shown = 0  # text pieces received; characters of text sent as tokens
        cut: int | None = None  # where a repeat begins
        final: ChunkUsage | None = None
        finish: FinishReason | None = None
        async with self._slots:
            clock = time.perf_counter()
            async with aclosing(self.engine.chat(chat)) as stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        final = chunk.usage
                    if chunk.done:
                        finish = chunk.finish_reason
                    if not chunk.text:
                        continue
                    pieces += 1
                    cut = guard.feed(chunk.text)
                    if sid is not None:
                        shown = self._show(run, sid, guard, shown, cut)
                        if pieces == 1:
                            # Let the first token go out before the rest of a read is parsed.
                            await asyncio.sleep(0)
                    if cut is not None:
                        break
            if cut is not None:  # stopped early: the prompt's counts, if the engine sent them
                prompt = final or ChunkUsage()
                final = ChunkUsage(
                    prompt_tokens=prompt.prompt_tokens,
                    completion_tokens=pieces,
                    cached_prompt_tokens=prompt.cached_prompt_tokens,
                )
                finish = None
            elif sid is not None:
                self._show(run, sid, guard, shown, len(guard.text))
            usage = usage_of(final, time.perf_counter() - clock)
        run.usage.append(usage)
        text = guard.text[:cut].strip()
        if not text:
            raise EngineError("The model returned no text", code="empty_answer")
        return _Draft(text=text, usage=usage, finish_reason=finish, cut=cut is not None)

    @staticmethod
    def _show(
        run: _Run, sid: SectionId, guard: RepetitionGuard, shown: int, end: int | None
    ) -> int:
        """Send the section's text from `shown` up to `end` (what is settled, if None) as a
        token event; the new `shown`."""
        end = guard.settled if end is None else end
        if end > shown:
            run.sink.token(sid, guard.text[shown:end])
            return end
        return shown

    async def _digest(self, model: str) -> str | None:
        try:
            return await self.engine.model_digest(model)
        except EngineError:
            return None

    async def _processor(self, model: str) -> Processor | None:
        try:
            return await self.engine.processor(model)
        except EngineError:
            return None

    def _versions(self) -> dict[str, str]:
        engine_versions: Mapping[str, str] = getattr(self.engine, "versions", {})
        return {"ert": __version__, "python": platform.python_version(), **engine_versions}


async def _results(tasks: Sequence[asyncio.Task[Section]]) -> list[Section]:
    """The tasks' results in order, or the first error as soon as one fails. Unlike gather,
    being cancelled leaves the tasks running for the caller to cancel all at once: cancelled
    one by one, a task waiting for a model slot would take the slot another one frees."""
    if tasks:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise error
    return [task.result() for task in tasks]
