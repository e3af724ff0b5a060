"""The data-only engine: no model at all. It reads the structured task each request
carries (the task the prompt was written from) and lays the fact sheet out as plain
Markdown, saying in every section that no language model wrote it. Asked for a rating,
it declines.

Because it is an ordinary engine, its reports go through the same writer: same events,
same grounding (its figures are quoted exactly as displayed, so all of them verify).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

from vast_ai.engines.base import ChatChunk, ChatRequest, ChunkUsage, EngineError, ReportTask
from vast_ai.schemas import Fact

MODEL_NAME = "data-only"
NOTICE = (
    "_Written from the fact sheet by ERT's data-only writer: no language model wrote this text._"
)

_VALUATION_WORDS = (
    "price",
    "p/e",
    "pe ",
    "ev/",
    "ev to",
    "multiple",
    "yield",
    "target",
    "market cap",
    "eps",
    "book",
)
_RISK_WORDS = ("beta", "debt", "leverage", "volatil", "drawdown", "short", "interest", "liabilit")


def _line(fact: Fact) -> str:
    period = f" ({fact.period})" if fact.period else ""
    return f"- {fact.label or fact.key}{period}: {fact.display}"


def _matches(fact: Fact, words: tuple[str, ...]) -> bool:
    name = f"{fact.key} {fact.label}".lower().replace("_", " ")
    return any(word in name for word in words)


def _pick(task: ReportTask) -> list[Fact]:
    """The figures that belong in the task's section."""
    facts = list(task.facts)
    if task.section == "valuation":
        return [
            f for f in facts if f.unit in ("multiple", "per_share") or _matches(f, _VALUATION_WORDS)
        ]
    if task.section == "financial_analysis":
        return [
            f
            for f in facts
            if f.unit in ("currency", "percent") and not _matches(f, _VALUATION_WORDS)
        ]
    if task.section == "risks":
        return [f for f in facts if _matches(f, _RISK_WORDS)]
    if task.section == "business_overview":
        return [f for f in facts if f.unit == "count"]
    return facts[:8]


def compose(task: ReportTask) -> str:
    """The section's Markdown, from the task block alone."""
    paragraphs = [NOTICE]
    if task.section == "business_overview":
        profile = task.profile
        where = ", ".join(profile[k] for k in ("sector", "industry", "country") if k in profile)
        paragraphs.append(
            f"{task.company} ({task.ticker})" + (f" operates in {where}." if where else ".")
        )
        if "description" in profile:
            paragraphs.append(profile["description"])
    elif task.section == "executive_summary":
        paragraphs.append(
            f"This report on {task.company} ({task.ticker}) lists the figures computed from market "
            "data; it contains no analysis or opinion. The headline figures:"
        )
    elif task.section == "investment_thesis":
        paragraphs.append(
            "An investment thesis needs judgement, which this writer does not offer. "
            "Weigh these figures against your own view of the company:"
        )
    elif task.section == "risks":
        paragraphs.append(
            "Without a model, risks are limited to what the figures show; read the company's "
            "filings for business and regulatory risks."
        )
    figures = _pick(task)
    if figures:
        paragraphs.append("\n".join(_line(f) for f in figures))
    elif task.section not in ("business_overview", "risks"):
        paragraphs.append("The fact sheet holds no figures for this section.")
    return "\n\n".join(paragraphs)


class DataOnlyEngine:
    name = "data_only"
    demo = False
    follows_instructions = False

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        if request.json_schema is not None:
            text = json.dumps(
                {
                    "recommendation": "not_rated",
                    "summary": "No language model wrote this report, so it carries no rating.",
                    "withheld": "no_language_model",
                }
            )
        elif request.task is None:
            raise EngineError("The data-only writer needs a report task", code="no_report_task")
        else:
            text = compose(request.task)
        yield ChatChunk(text=text)
        yield ChatChunk(done=True, usage=ChunkUsage(), finish_reason="stop")

    async def list_models(self) -> list[str]:
        return [MODEL_NAME]

    async def model_digest(self, model: str) -> str | None:
        return None

    async def processor(self, model: str) -> None:
        return None

    async def close(self) -> None:
        return None
