"""The prompts: one per section, built from the fact sheet, plus the rating prompt.

Each user prompt carries a `<report_task>` JSON block (section, company, the figures the
text may quote). The model reads the figures there, and the data-only engine reads the
same block to write its text without a model (`read_task`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vast_ai.schemas import SECTION_TITLES, Fact, ReportRequest

SYSTEM_PROMPT = (
    "You are an equity research analyst writing one section of a research report in "
    "Markdown. Rules: quote only the figures listed in the report task, exactly as "
    "displayed there (same rounding, units and symbols); never compute, estimate or "
    "invent other figures, years or percentages; if a figure you would need is not "
    "listed, write without it. Do not repeat the section title as a heading. Write "
    "plain, precise prose of 120 to 250 words; short bullet lists are fine."
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
    "other sections below; 80 to 150 words.",
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

_TASK_BLOCK = re.compile(r"<report_task>\s*(\{.*?\})\s*</report_task>", re.DOTALL)
_DESCRIPTION_LIMIT = 1500
# What the prompt shows of each fact: the model quotes `display`; raw values would only
# invite it to recompute figures, and cost tokens (digits tokenise one by one).
_PROMPT_FACT_FIELDS = {"key", "label", "display", "unit", "period"}
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class ReportTask:
    """What a prompt asks for, as written into its `<report_task>` block."""

    section: str
    ticker: str
    company: str
    facts: list[Fact]
    profile: dict[str, str]


def company_name(request: ReportRequest) -> str:
    data = request.company_data
    for key in ("name", "longName", "shortName", "company_name"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return request.ticker


def _profile(request: ReportRequest) -> dict[str, str]:
    """The descriptive, figure-free company fields the prose may use."""
    fields = {"sector": "sector", "industry": "industry", "country": "country"}
    profile = {
        label: str(request.company_data[key])
        for key, label in fields.items()
        if isinstance(request.company_data.get(key), str)
    }
    description = request.company_data.get("description") or request.company_data.get(
        "longBusinessSummary"
    )
    if isinstance(description, str):
        profile["description"] = description[:_DESCRIPTION_LIMIT]
    return profile


def _task_block(section: str, request: ReportRequest) -> str:
    task = {
        "section": section,
        "ticker": request.ticker,
        "company": company_name(request),
        "profile": _profile(request),
        "facts": [
            fact.model_dump(include=_PROMPT_FACT_FIELDS, exclude_none=True)
            for fact in request.fact_sheet
        ],
    }
    compact = json.dumps(task, ensure_ascii=False, separators=(",", ":"))
    return f"<report_task>\n{compact}\n</report_task>"


def read_task(messages: Sequence[Mapping[str, str]]) -> ReportTask | None:
    """The `<report_task>` block of the last user message, or None if there is none."""
    for message in reversed(messages):
        if message.get("role") == "user":
            match = _TASK_BLOCK.search(message.get("content", ""))
            if not match:
                return None
            task = json.loads(match.group(1))
            return ReportTask(
                section=task["section"],
                ticker=task["ticker"],
                company=task["company"],
                facts=[Fact.model_validate(fact) for fact in task["facts"]],
                profile=task.get("profile", {}),
            )
    return None


def section_messages(
    section: str,
    request: ReportRequest,
    *,
    other_sections: Mapping[str, str] | None = None,
    unverified: Sequence[str] = (),
) -> Messages:
    """The chat for one section; `unverified` names figures a first draft made up."""
    parts = [
        f'Write the "{SECTION_TITLES[section]}" section of an equity research report on '
        f"{company_name(request)} ({request.ticker}).",
        f"Focus: {SECTION_BRIEFS[section]}",
        _task_block(section, request),
    ]
    if other_sections:
        written = "\n\n".join(
            f"### {SECTION_TITLES[sid]}\n{text}" for sid, text in other_sections.items()
        )
        parts.append(f"The other sections of the report:\n\n{written}")
    if unverified:
        listed = ", ".join(f'"{figure}"' for figure in unverified)
        parts.append(
            f"A first draft quoted figures that are not in the report task: {listed}. "
            "Write the section again, quoting only the listed figures exactly as displayed."
        )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def rating_messages(request: ReportRequest, sections: Mapping[str, str]) -> Messages:
    written = "\n\n".join(f"### {SECTION_TITLES[sid]}\n{text}" for sid, text in sections.items())
    content = "\n\n".join(
        [
            f"Equity research report on {company_name(request)} ({request.ticker}).",
            _task_block("rating", request),
            written or "(No section could be written.)",
            RATING_PROMPT,
        ]
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]
