"""The wire format between the dashboard and the GPU tier, and for curl users.

Pure pydantic: no I/O, no settings, no FastAPI. The dashboard imports this module,
so it must stay importable with only pydantic installed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

TICKER_PATTERN = re.compile(r"^[A-Z0-9.\-^=]{1,12}$")
# A UTF-16 surrogate on its own (JSON allows "\ud800"): it cannot be encoded as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

SectionId = Literal[
    "executive_summary",
    "business_overview",
    "financial_analysis",
    "valuation",
    "risks",
    "investment_thesis",
]

# Reading order; the executive summary is written last but read first.
SECTION_IDS: tuple[SectionId, ...] = (
    "executive_summary",
    "business_overview",
    "financial_analysis",
    "valuation",
    "risks",
    "investment_thesis",
)

SECTION_TITLES: dict[str, str] = {
    "executive_summary": "Executive Summary",
    "business_overview": "Business Overview",
    "financial_analysis": "Financial Analysis",
    "valuation": "Valuation",
    "risks": "Risks",
    "investment_thesis": "Investment Thesis",
}

FactUnit = Literal["currency", "percent", "multiple", "per_share", "count", "number"]


def normalise_ticker(value: str) -> str:
    """Trim and upper-case a ticker, or raise ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("ticker must be a string")
    ticker = value.strip().upper()
    if not ticker:
        raise ValueError("ticker is empty")
    if len(ticker) > 12:
        raise ValueError("ticker is longer than 12 characters")
    if not TICKER_PATTERN.match(ticker):
        raise ValueError("ticker may contain only letters, digits and . - ^ =")
    return ticker


def replace_lone_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    return value


class WireModel(BaseModel):
    """Base for every wire model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Fact(WireModel):
    """One figure the report may quote, computed in code."""

    key: str = Field(min_length=1, max_length=80)
    label: str = Field(max_length=200)
    value: float | None = None
    display: str = Field(max_length=80)
    unit: FactUnit = "number"
    currency: str | None = Field(default=None, max_length=8)
    period: str | None = Field(default=None, max_length=40)
    # The ticker of the company the figure is about when it is not the report's own
    # (a peer's P/E); None for the report's company.
    subject: str | None = Field(default=None, max_length=12)


class GenerationOptions(WireModel):
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    seed: int = Field(default=42, ge=0, le=2**31 - 1)
    max_tokens_per_section: int = Field(default=700, ge=16, le=8192)
    reasoning_effort: Literal["low", "medium", "high"] = "low"


class ReportRequest(WireModel):
    ticker: str
    company_data: dict[str, Any]
    financial_data: dict[str, Any]
    market_data: dict[str, Any] | None = None
    fact_sheet: list[Fact] = Field(default_factory=list, max_length=500)
    sections: list[SectionId] = Field(default_factory=lambda: list(SECTION_IDS), min_length=1)
    model: str | None = Field(default=None, max_length=100)
    options: GenerationOptions = Field(default_factory=GenerationOptions)

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any) -> Any:
        """Lone surrogates become U+FFFD: they could be neither sent to a model nor answered."""
        return replace_lone_surrogates(data)

    @field_validator("ticker", mode="before")
    @classmethod
    def _ticker(cls, value: Any) -> str:
        return normalise_ticker(value)

    @field_validator("sections")
    @classmethod
    def _unique_sections(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("sections must not repeat")
        return value


class Usage(WireModel):
    # Prompt tokens the model evaluated; those it reused from its cache are counted apart
    # (None: the engine does not say, as Ollama does not).
    prompt_tokens: int = 0
    cached_prompt_tokens: int | None = None
    completion_tokens: int = 0
    generation_seconds: float = 0.0
    tokens_per_second: float = 0.0


class FigureCheck(WireModel):
    """One figure found in a section's Markdown and what it was matched to."""

    text: str
    start: int
    end: int
    value: float
    kind: Literal["money", "percent", "multiple", "per_share", "number"]
    # verified: value and the metric it is stated for agree with a fact; mismatch: the
    # value is in the data, but for another metric, period or sign than the text states;
    # unverified: no such value in the data.
    status: Literal["verified", "mismatch", "unverified"]
    # How a verified figure was matched: to the metric its clause names, by value alone
    # (its clause names no metric, and it is precise enough), or recomputed from two facts.
    basis: Literal["metric", "value_only", "derived"] | None = None
    # The fact it states (verified) or really is (mismatch).
    fact_key: str | None = None
    fact_label: str | None = None
    fact_display: str | None = None
    # For people: "24.3% is the net margin, not the operating margin", or how a derived
    # figure was recomputed.
    note: str | None = None


class SectionGrounding(WireModel):
    found: int = 0
    verified: int = 0
    mismatch: int = 0
    unverified: int = 0
    # Of the verified: matched by value alone, and recomputed from two facts.
    value_only: int = 0
    derived: int = 0
    figures: list[FigureCheck] = Field(default_factory=list)
    rewritten: bool = False


class ReportGrounding(WireModel):
    found: int = 0
    verified: int = 0
    mismatch: int = 0
    unverified: int = 0
    value_only: int = 0
    derived: int = 0
    sections_rewritten: list[str] = Field(default_factory=list)
    threshold: float = 0.2


class ErrorInfo(WireModel):
    code: str
    message: str
    retryable: bool = False


class Notice(WireModel):
    """Something a reader must know about a section or a report, for people and code."""

    code: str
    message: str


# A section's flags: repetition_cut (the model began repeating itself: the repeat was
# cut), length_limit (it ran out of tokens), ends_mid_sentence.
SectionFlagCode = Literal["repetition_cut", "length_limit", "ends_mid_sentence"]


class SectionFlag(Notice):
    code: SectionFlagCode


class SectionReplacement(WireModel):
    """The data-only writer's text for a section that failed or failed the check: the
    section's figures from the data, verified by construction, written by no model."""

    writer: Literal["data_only"] = "data_only"
    markdown: str


class Section(WireModel):
    """One section. `status`: ok; failed (no text: `error` says why); failed_check (the
    model's final draft, in `markdown`, still fails the figure check: `error` says why, and
    it must never be shown as clean prose). A section that is not ok carries `replacement`.
    `grounding` is the check of `markdown`, so report totals count the failing draft."""

    id: SectionId
    title: str
    status: Literal["ok", "failed", "failed_check"] = "ok"
    markdown: str = ""
    error: ErrorInfo | None = None
    flags: list[SectionFlag] = Field(default_factory=list)
    replacement: SectionReplacement | None = None
    usage: Usage = Field(default_factory=Usage)
    grounding: SectionGrounding = Field(default_factory=SectionGrounding)


# Why a rating was withheld (recommendation "not_rated").
RatingWithheld = Literal[
    "demo_model",  # a demo model wrote the text
    "no_language_model",  # the data-only writer wrote it
    "sections_failed",  # most of the sections it would rest on were not written
    "failed_check",  # a section it rests on, or its own summary, failed the figure check
    "no_valid_answer",  # the model gave no valid rating
]


class Rating(WireModel):
    recommendation: Literal["buy", "hold", "sell", "not_rated"]
    conviction: Literal["low", "medium", "high"] | None = None
    # The reason, for a rating withheld (for people); else the model's explanation.
    summary: str = ""
    withheld: RatingWithheld | None = None


class ReportMetadata(WireModel):
    started_at: datetime
    finished_at: datetime
    generation_time: float
    # What wrote the text: the engine (with the response's `model`), whether that is a demo
    # model whose text is unreliable (every page and export must say so), and where it ran
    # (None where the engine does not know).
    engine: str
    demo_model: bool = False
    processor: Literal["gpu", "cpu"] | None = None
    model_digest: str | None = None
    prompt_hash: str
    options: GenerationOptions
    versions: dict[str, str] = Field(default_factory=dict)


class ReportResponse(WireModel):
    success: bool
    report_id: str
    ticker: str
    model: str
    sections: dict[str, Section]
    rating: Rating
    grounding: ReportGrounding
    usage: Usage
    metadata: ReportMetadata
    # Facts the GPU tier read from company_data/financial_data/market_data because the
    # request had no fact_sheet (yfinance `.info` keys); the prompts and the check used them.
    derived_facts: list[Fact] = Field(default_factory=list)
    # For instance no_figures: nothing quotable, so the text was written without figures.
    warnings: list[Notice] = Field(default_factory=list)


# Stream events: one JSON object per NDJSON line, `type` first.


class StartedEvent(WireModel):
    type: Literal["started"] = "started"
    report_id: str
    ticker: str
    model: str
    sections: list[SectionId]
    engine: str = ""
    demo_model: bool = False
    warnings: list[Notice] = Field(default_factory=list)


class SectionStartedEvent(WireModel):
    type: Literal["section_started"] = "section_started"
    section: SectionId
    attempt: int = 1


class TokenEvent(WireModel):
    type: Literal["token"] = "token"
    section: SectionId
    text: str


class SectionDoneEvent(WireModel):
    type: Literal["section_done"] = "section_done"
    section: Section


class RatingEvent(WireModel):
    type: Literal["rating"] = "rating"
    rating: Rating


class DoneEvent(WireModel):
    type: Literal["done"] = "done"
    report: ReportResponse


class ErrorEvent(WireModel):
    type: Literal["error"] = "error"
    code: str
    message: str
    retryable: bool = False


Event = (
    StartedEvent
    | SectionStartedEvent
    | TokenEvent
    | SectionDoneEvent
    | RatingEvent
    | DoneEvent
    | ErrorEvent
)
StreamEvent = Annotated[Event, Field(discriminator="type")]


STREAM_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(StreamEvent)


def parse_event(line: str | bytes) -> BaseModel:
    """Parse one NDJSON line of `/generate_report/stream` into its event model."""
    event: BaseModel = STREAM_EVENT_ADAPTER.validate_json(line)
    return event


class ErrorBody(WireModel):
    error: ErrorInfo


class QueueStatus(WireModel):
    active: int
    waiting: int
    limit: int


class HealthResponse(WireModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    model: str
    ollama_status: Literal["online", "offline"]
    models_available: list[str]
    uptime: float
    version: str
    engine: str
    queue: QueueStatus


class ModelInfo(WireModel):
    name: str
    pulled: bool
    default: bool


class ModelsResponse(WireModel):
    engine: str
    models: list[ModelInfo]
