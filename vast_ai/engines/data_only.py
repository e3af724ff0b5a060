"""The data-only engine: no model at all. It reads the structured task each request
carries (the task the prompt was written from) and lays the fact sheet out as plain
Markdown, saying in every section that no language model wrote it. Asked for a rating,
it declines.

Because it is an ordinary engine, its reports go through the same writer: same events,
same grounding (its figures are quoted exactly as displayed, so all of them verify).
"""

from __future__ import annotations

import json
import re
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

# Where the families of facts the dashboard sends belong, by key prefix (first match),
# and the heading of their group: how the company stands among peers in the overview,
# past results in the financial analysis, what the price holds in the valuation, what
# could go wrong (estimates cut, insiders selling) in the risks, what analysts expect
# in the thesis.
_SECTION_OF_KEY: tuple[tuple[str, str, str], ...] = (
    ("peer_rank", "business_overview", "Rank among peers"),
    ("peer_median", "business_overview", "Peer medians"),
    ("peer_", "business_overview", "Peers' own figures"),
    ("eps_actual", "financial_analysis", "Reported quarters"),
    ("eps_consensus", "financial_analysis", "Reported quarters"),
    ("eps_surprise", "financial_analysis", "Reported quarters"),
    ("eps_revisions", "risks", "Estimate revisions"),
    ("eps_estimate_change", "risks", "Estimate revisions"),
    ("revenue_estimate_change", "risks", "Estimate revisions"),
    ("rating_", "risks", "Broker rating changes"),
    ("insider_", "risks", "Insiders"),
    ("eps_estimate", "investment_thesis", "EPS estimates"),
    ("revenue_estimate", "investment_thesis", "Revenue estimates"),
    ("analysts_", "investment_thesis", "Analysts' ratings"),
    ("institution", "investment_thesis", "Ownership"),
    ("next_earnings", "investment_thesis", "Ownership"),
    ("dcf_value", "valuation", "Discounted cash flow"),
    ("dcf_upside", "valuation", "Discounted cash flow"),
    ("reverse_dcf", "valuation", "Discounted cash flow"),
    ("dcf_", "valuation", "Discounted cash flow: inputs"),
    ("peers_", "valuation", "Multiples of peers"),
    ("price_target", "valuation", "ERT price target"),
)
_FISCAL_YEAR = re.compile(r"_fy\d{4}$")
# The figures an executive summary leads with, when the fact sheet has them.
_HEADLINE_KEYS = (
    "price",
    "market_cap",
    "revenue_ttm",
    "net_margin",
    "pe_trailing",
    "target_mean",
    "price_target_base",
    "dcf_value_per_share",
)


def _line(fact: Fact) -> str:
    """ "- label (period): display", the period left out when the label already says it."""
    label = fact.label or fact.key
    period = fact.period
    named = period and period.lower() not in label.lower()
    return f"- {label}{f' ({period})' if named else ''}: {fact.display}"


def _matches(fact: Fact, words: tuple[str, ...]) -> bool:
    name = f"{fact.key} {fact.label}".lower().replace("_", " ")
    return any(word in name for word in words)


def _family(fact: Fact) -> tuple[str, str] | None:
    """(section, group heading) of a fact of the families above."""
    return next(((sid, group) for p, sid, group in _SECTION_OF_KEY if fact.key.startswith(p)), None)


def _belongs(fact: Fact, section: str) -> bool:
    """Whether a fact of the base fact sheet (no family above) belongs in a section."""
    valuation = fact.unit in ("multiple", "per_share") or _matches(fact, _VALUATION_WORDS)
    if section == "valuation":
        return valuation
    if section == "financial_analysis":
        return fact.unit in ("currency", "percent") and not valuation
    if section == "risks":
        return _matches(fact, _RISK_WORDS)
    if section == "business_overview":
        return fact.unit == "count"
    return False


def _pick(task: ReportTask) -> list[tuple[str, list[Fact]]]:
    """The figures that belong in the task's section, by group ("" first: the base
    fact sheet's, under no heading)."""
    facts = list(task.facts)
    if task.section == "executive_summary":
        by_key = {f.key: f for f in facts}
        headline = [by_key[k] for k in _HEADLINE_KEYS if k in by_key]
        return [("", headline or facts[:8])]
    groups: dict[str, list[Fact]] = {"": [], "Fiscal years": []}
    for fact in facts:
        family = _family(fact)
        if family is None and _belongs(fact, task.section):
            groups["Fiscal years" if _FISCAL_YEAR.search(fact.key) else ""].append(fact)
        elif family is not None and family[0] == task.section:
            groups.setdefault(family[1], []).append(fact)
    return [(group, listed) for group, listed in groups.items() if listed]


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
    groups = _pick(task)
    for group, figures in groups:
        lines = "\n".join(_line(f) for f in figures)
        paragraphs.append(f"**{group}**\n\n{lines}" if group else lines)
    if not groups and task.section not in ("business_overview", "risks"):
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
