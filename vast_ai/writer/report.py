"""The report writer: sections in parallel, grounding with one rewrite, summary, rating.

    writer = ReportWriter(engine, concurrency_limit=4, grounding_threshold=0.2,
                          engine_name=None, generation_timeout=None, num_ctx=8192)
    async for event in writer.events(request, model): ...   # stream events of schemas.py
    report = await writer.write(request, model)              # or just the ReportResponse

Create ONE writer per engine and share it: its `concurrency_limit` bounds the model
calls of all reports together (set it to OLLAMA_NUM_PARALLEL). Plain arguments only,
no FastAPI and no settings, so the dashboard runs the same writer in-process.

Failures: Engine errors that doom every section (unreachable, model not pulled,
timeout) end the report: `write` raises them, `events` ends with an ErrorEvent.
Any other engine error fails its own section, reported with status "failed".
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import platform
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vast_ai import __version__
from vast_ai.engines.base import (
    ChatRequest,
    ChunkUsage,
    Engine,
    EngineError,
    EngineTimeout,
    EngineUnreachable,
    ModelNotPulled,
)
from vast_ai.grounding import check_figures, total_grounding, unverified_share
from vast_ai.schemas import (
    SECTION_IDS,
    SECTION_TITLES,
    DoneEvent,
    ErrorEvent,
    ErrorInfo,
    Rating,
    RatingEvent,
    ReportMetadata,
    ReportRequest,
    ReportResponse,
    Section,
    SectionDoneEvent,
    SectionGrounding,
    SectionId,
    SectionStartedEvent,
    StartedEvent,
    TokenEvent,
    Usage,
)
from vast_ai.writer.prompts import RATING_SCHEMA, Messages, rating_messages, section_messages
from vast_ai.writer.rating import NOT_RATED, parse_rating

log = logging.getLogger(__name__)

# Errors after which no other section can succeed either.
FATAL_ERRORS = (EngineUnreachable, ModelNotPulled, EngineTimeout)
SUMMARY = "executive_summary"

Event = (
    StartedEvent
    | SectionStartedEvent
    | TokenEvent
    | SectionDoneEvent
    | RatingEvent
    | DoneEvent
    | ErrorEvent
)


class _Sink:
    """Where a run's events go; this one drops them (`write` wants only the report)."""

    def emit(self, event: Event) -> None:
        return None

    def token(self, section: SectionId, text: str) -> None:
        return None


@dataclass
class _Tokens:
    section: SectionId
    parts: list[str]


class _EventBuffer(_Sink):
    """Events waiting for the reader. Tokens of one section that arrive before the reader
    comes back are merged into one TokenEvent, so a fast model never outruns a slow reader
    and each line on the wire carries as much text as is ready."""

    def __init__(self) -> None:
        self._pending: list[Event | _Tokens] = []
        self._ready = asyncio.Event()

    def emit(self, event: Event) -> None:
        self._pending.append(event)
        self._ready.set()

    def token(self, section: SectionId, text: str) -> None:
        last = self._pending[-1] if self._pending else None
        if isinstance(last, _Tokens) and last.section == section:
            last.parts.append(text)
        else:
            self._pending.append(_Tokens(section, [text]))
        self._ready.set()

    async def drain(self) -> list[Event]:
        await self._ready.wait()
        self._ready.clear()
        batch, self._pending = self._pending, []
        return [
            TokenEvent(section=item.section, text="".join(item.parts))
            if isinstance(item, _Tokens)
            else item
            for item in batch
        ]


@dataclass
class _Draft:
    text: str
    usage: Usage


@dataclass
class _Run:
    """One report being written: its input, where its events go, what it has used."""

    request: ReportRequest
    model: str
    sink: _Sink
    usage: list[Usage] = field(default_factory=list)
    prompts: list[Messages] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.sink.emit(event)

    @property
    def raw_data(self) -> dict[str, Any]:
        return {
            "company_data": self.request.company_data,
            "financial_data": self.request.financial_data,
            "market_data": self.request.market_data or {},
        }


def _usage(chunk: ChunkUsage | None, wall_seconds: float) -> Usage:
    chunk = chunk or ChunkUsage()
    seconds = chunk.eval_seconds or wall_seconds
    return Usage(
        prompt_tokens=chunk.prompt_tokens,
        completion_tokens=chunk.completion_tokens,
        generation_seconds=round(seconds, 4),
        tokens_per_second=round(chunk.completion_tokens / seconds, 2) if seconds > 0 else 0.0,
    )


def total_usage(parts: Sequence[Usage]) -> Usage:
    prompt = sum(u.prompt_tokens for u in parts)
    completion = sum(u.completion_tokens for u in parts)
    seconds = sum(u.generation_seconds for u in parts)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        generation_seconds=round(seconds, 4),
        tokens_per_second=round(completion / seconds, 2) if seconds > 0 else 0.0,
    )


def prompt_hash(prompts: Sequence[Messages]) -> str:
    digest = hashlib.sha256()
    for messages in prompts:
        for message in messages:
            digest.update(f"{message['role']}\x00{message['content']}\x00".encode())
    return digest.hexdigest()


class ReportWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        concurrency_limit: int,
        grounding_threshold: float = 0.2,
        engine_name: str | None = None,
        generation_timeout: float | None = None,
        num_ctx: int | None = 8192,
    ) -> None:
        self.engine = engine
        self.engine_name = engine_name or engine.name
        self.grounding_threshold = grounding_threshold
        self.generation_timeout = generation_timeout
        self.num_ctx = num_ctx
        self._slots = asyncio.Semaphore(concurrency_limit)

    async def write(self, request: ReportRequest, model: str) -> ReportResponse:
        """The whole report; raises the EngineError that ended it, if one did."""
        return await self._generate(request, model, _Sink())

    async def events(self, request: ReportRequest, model: str) -> AsyncIterator[Event]:
        """The report as stream events, ending with DoneEvent or ErrorEvent.

        Closing the iterator early (a client that went away) cancels the generation.
        """
        buffer = _EventBuffer()

        async def produce() -> None:
            try:
                buffer.emit(DoneEvent(report=await self._generate(request, model, buffer)))
            except EngineError as exc:
                buffer.emit(ErrorEvent(code=exc.code, message=exc.message, retryable=exc.retryable))
            except Exception:
                log.exception("report generation failed for %s", request.ticker)
                buffer.emit(
                    ErrorEvent(code="internal_error", message="The report could not be written")
                )

        task = asyncio.create_task(produce())
        try:
            while True:
                for event in await buffer.drain():
                    yield event
                    if isinstance(event, DoneEvent | ErrorEvent):
                        return
        finally:
            task.cancel()
            # asyncio.wait, unlike `await task`, does not pass a repeated cancellation
            # (anyio cancel scopes repeat theirs) on to the task, whose clean-up, closing
            # the engine's stream, must run undisturbed.
            with suppress(asyncio.CancelledError):
                await asyncio.wait({task})

    async def _generate(self, request: ReportRequest, model: str, sink: _Sink) -> ReportResponse:
        try:
            async with asyncio.timeout(self.generation_timeout):
                return await self._compose(_Run(request=request, model=model, sink=sink))
        except TimeoutError:
            raise EngineTimeout(
                f"The report took longer than {self.generation_timeout:g} s and was stopped"
            ) from None

    async def _compose(self, run: _Run) -> ReportResponse:
        started_at, clock = datetime.now(UTC), time.perf_counter()
        report_id = uuid.uuid4().hex
        wanted = [sid for sid in SECTION_IDS if sid in run.request.sections]
        body = [sid for sid in wanted if sid != SUMMARY]
        run.emit(
            StartedEvent(
                report_id=report_id, ticker=run.request.ticker, model=run.model, sections=wanted
            )
        )

        sections: dict[str, Section] = {}
        written = await _gather(*(self._section(run, sid) for sid in body))
        sections.update(zip(body, written, strict=True))
        # Asked for only now, so it does not slow down the first tokens.
        digest_task = asyncio.create_task(self._digest(run.model))
        try:
            texts = {sid: s.markdown for sid, s in sections.items() if s.status == "ok"}
            rating_call = self._rating(run, rating_messages(run.request, texts))
            if SUMMARY in wanted:
                sections[SUMMARY], rating = await _gather(
                    self._section(run, SUMMARY, texts), rating_call
                )
            else:
                rating = await rating_call
            digest = await digest_task
        finally:
            digest_task.cancel()
        run.emit(RatingEvent(rating=rating))

        ordered: dict[str, Section] = {sid: sections[sid] for sid in wanted}
        grounding = total_grounding(
            {sid: s.grounding for sid, s in ordered.items()}, self.grounding_threshold
        )
        finished_at = datetime.now(UTC)
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
                finished_at=finished_at,
                generation_time=round(time.perf_counter() - clock, 3),
                engine=self.engine_name,
                model_digest=digest,
                prompt_hash=prompt_hash(run.prompts),
                options=run.request.options,
                versions=self._versions(),
            ),
        )

    async def _section(
        self, run: _Run, sid: SectionId, context: Mapping[str, str] | None = None
    ) -> Section:
        """Write, check and, if too many figures are unverified, rewrite one section.

        `context` holds the other sections' text, for the executive summary.
        """
        title = SECTION_TITLES[sid]
        messages = section_messages(sid, run.request, other_sections=context)
        run.prompts.append(messages)
        run.emit(SectionStartedEvent(section=sid))
        try:
            draft = await self._draft(run, sid, messages)
        except FATAL_ERRORS:
            raise
        except EngineError as exc:
            section = Section(
                id=sid,
                title=title,
                status="failed",
                error=ErrorInfo(code=exc.code, message=exc.message),
            )
            run.emit(SectionDoneEvent(section=section))
            return section
        grounding = check_figures(draft.text, run.request.fact_sheet, run.raw_data)
        usage = [draft.usage]
        if unverified_share(grounding) > self.grounding_threshold:
            draft, grounding, usage = await self._rewrite(
                run, sid, context, draft, grounding, usage
            )
        section = Section(
            id=sid, title=title, markdown=draft.text, usage=total_usage(usage), grounding=grounding
        )
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
        """Write the section once more naming the unverified figures; keep the better draft.

        `rewritten` is set once a second draft was asked for, whichever draft is kept.
        """
        unverified = [f.text for f in grounding.figures if f.status == "unverified"]
        messages = section_messages(sid, run.request, other_sections=context, unverified=unverified)
        run.emit(SectionStartedEvent(section=sid, attempt=2))
        try:
            second = await self._draft(run, sid, messages)
        except FATAL_ERRORS:
            raise
        except EngineError:
            return first, grounding.model_copy(update={"rewritten": True}), usage
        second_grounding = check_figures(second.text, run.request.fact_sheet, run.raw_data)
        usage = [*usage, second.usage]
        if unverified_share(second_grounding) < unverified_share(grounding):
            return second, second_grounding.model_copy(update={"rewritten": True}), usage
        return first, grounding.model_copy(update={"rewritten": True}), usage

    async def _rating(self, run: _Run, messages: Messages) -> Rating:
        """The rating as schema-constrained JSON: validated, retried once, else not_rated."""
        run.prompts.append(messages)
        for _attempt in range(2):
            try:
                draft = await self._draft(run, None, messages, json_schema=RATING_SCHEMA)
            except FATAL_ERRORS:
                raise
            except EngineError:
                continue
            rating = parse_rating(draft.text)
            if rating is not None:
                return rating
        return NOT_RATED

    async def _draft(
        self,
        run: _Run,
        sid: SectionId | None,
        messages: Messages,
        json_schema: dict[str, Any] | None = None,
    ) -> _Draft:
        """One model call under the shared limit; tokens go out as events (not the rating's)."""
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
        )
        async with self._slots:
            clock = time.perf_counter()
            parts: list[str] = []
            final: ChunkUsage | None = None
            async for chunk in self.engine.chat(chat):
                if chunk.text:
                    parts.append(chunk.text)
                    if sid is not None:
                        run.sink.token(sid, chunk.text)
                        if len(parts) == 1:
                            # Let the first token go out before the rest of a read is parsed.
                            await asyncio.sleep(0)
                if chunk.usage is not None:
                    final = chunk.usage
            usage = _usage(final, time.perf_counter() - clock)
        run.usage.append(usage)
        text = "".join(parts).strip()
        if not text:
            raise EngineError("The model returned no text", code="empty_answer")
        return _Draft(text=text, usage=usage)

    async def _digest(self, model: str) -> str | None:
        try:
            return await self.engine.model_digest(model)
        except EngineError:
            return None

    def _versions(self) -> dict[str, str]:
        engine_versions: Mapping[str, str] = getattr(self.engine, "versions", {})
        return {"ert": __version__, "python": platform.python_version(), **engine_versions}


async def _gather(*coroutines: Any) -> list[Any]:
    """Run concurrently; on the first error cancel the rest and raise it (not a group)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
