"""The prompts: one per section and one for the rating, each built from a `ReportTask`.

Laid out shared-first, so that Ollama and llama.cpp reuse the cached prefix across the
calls of one report: the system prompt, then the company and its figures (the same for
every call), then the other sections where a call reads them, and last the instruction
of this call. The figures are one compact line each, `label (period): display`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from vast_ai.engines.base import RATING_TASK, ReportTask
from vast_ai.schemas import SECTION_TITLES, Fact, ReportRequest

SYSTEM_PROMPT = (
    "You are an equity research analyst writing one section of a research report in "
    "Markdown. Rules: quote only the figures listed under Figures, exactly as displayed "
    "there (same rounding, units and symbols), and say which figure it is with its label "
    "and period; never compute, estimate or invent other figures, years or percentages; "
    "if a figure you would need is not listed, write without it. Do not repeat the section "
    "title as a heading and never repeat a sentence. Write plain, precise prose of 120 to "
    "250 words; short bullet lists are fine."
)

SECTION_BRIEFS: dict[str, str] = {
    "business_overview": "What the company does, how it earns money, its segments and "
    "its market position.",
    "financial_analysis": "Growth, profitability, cash generation and balance sheet "
    "strength, with the figures that show them.",
    "valuation": "How the market values the company: its multiples and what they imply.",
    "risks": "The main risks to the investment case: business, financial and market risks.",
    "investment_thesis": "The case for and against owning the shares, and what would "
    "change the view.",
    "executive_summary": "A summary of the whole report for a busy reader, drawn from the "
    "sections above; 80 to 150 words.",
}

RATING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "recommendation": {"type": "string", "enum": ["buy", "hold", "sell"]},
        "conviction": {"type": "string", "enum": ["low", "medium", "high"]},
        "summary": {"type": "string", "maxLength": 600},
    },
    "required": ["recommendation", "conviction", "summary"],
    "additionalProperties": False,
}

RATING_PROMPT = (
    "Rate the shares from the report sections and figures above. Answer with JSON only: "
    '{"recommendation": "buy"|"hold"|"sell", "conviction": "low"|"medium"|"high", '
    '"summary": one or two sentences explaining the rating, quoting only listed figures}.'
)

_DESCRIPTION_LIMIT = 1500
_PROFILE_FIELDS = ("sector", "industry", "country")
_DESCRIPTION_KEYS = ("description", "longBusinessSummary", "summary")
_NAME_KEYS = ("name", "longName", "shortName", "company_name")
_SPACES = re.compile(r"\s+")
Messages = list[dict[str, str]]


def company_name(request: ReportRequest) -> str:
    data = request.company_data
    for key in _NAME_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return request.ticker


def company_profile(request: ReportRequest) -> dict[str, str]:
    """The descriptive, figure-free company fields the prose may use."""
    data = request.company_data
    profile = {key: data[key] for key in _PROFILE_FIELDS if isinstance(data.get(key), str)}
    for key in _DESCRIPTION_KEYS:
        if isinstance(data.get(key), str) and data[key].strip():
            profile["description"] = _clipped(data[key].strip(), _DESCRIPTION_LIMIT)
            break
    return profile


def _clipped(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut after its last whole sentence (or word, with an
    ellipsis) rather than mid-word."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    sentence_end = head.rfind(". ")
    if sentence_end > limit // 2:
        return head[: sentence_end + 1]
    return head.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def build_task(
    section: str,
    request: ReportRequest,
    facts: Sequence[Fact],
    *,
    context: Mapping[str, str] | None = None,
    corrections: Sequence[str] = (),
) -> ReportTask:
    return ReportTask(
        section=section,
        ticker=request.ticker,
        company=company_name(request),
        facts=tuple(facts),
        profile=company_profile(request),
        context=dict(context or {}),
        corrections=tuple(corrections),
    )


def fact_line(fact: Fact) -> str:
    """`- label (period): display`, the subject first when the figure is a peer's."""
    subject = f"{fact.subject} " if fact.subject else ""
    period = f" ({fact.period})" if fact.period else ""
    return f"- {subject}{fact.label or fact.key}{period}: {_one_line(fact.display)}"


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _shared(task: ReportTask) -> str:
    """What every call of a report reads first: the company and its figures."""
    lines = [f"Company: {task.company} ({task.ticker})"]
    lines += [
        f"{key.title()}: {task.profile[key]}" for key in _PROFILE_FIELDS if key in task.profile
    ]
    if "description" in task.profile:
        lines.append(f"Description: {_one_line(task.profile['description'])}")
    parts = ["\n".join(lines)]
    if task.facts:
        parts.append("Figures (label (period): value as displayed):\n" + _fact_lines(task))
    else:
        parts.append("Figures: none are available; write without figures.")
    return "\n\n".join(parts)


def _fact_lines(task: ReportTask) -> str:
    return "\n".join(fact_line(fact) for fact in task.facts)


def _context(task: ReportTask) -> list[str]:
    if not task.context:
        return []
    written = "\n\n".join(
        f"### {SECTION_TITLES.get(sid, sid)}\n{text}" for sid, text in task.context.items()
    )
    return [f"The sections written so far:\n\n{written}"]


def _instruction(task: ReportTask) -> str:
    title = SECTION_TITLES[task.section]
    text = (
        f'Task: write the "{title}" section of the report on {task.company} ({task.ticker}). '
        f"Focus: {SECTION_BRIEFS[task.section]}"
    )
    if task.corrections:
        named = "\n".join(f"- {correction}" for correction in task.corrections)
        text += (
            "\nA first draft stated figures that failed the check against the data:\n"
            f"{named}\nWrite the section again, quoting only listed figures exactly as "
            "displayed, each for the metric and period it is listed with."
        )
    return text


def chat_messages(task: ReportTask) -> Messages:
    """The chat for a task: shared part first, this call's instruction last."""
    last = RATING_PROMPT if task.section == RATING_TASK else _instruction(task)
    user = "\n\n".join([_shared(task), *_context(task), last])
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
