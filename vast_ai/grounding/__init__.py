"""The trust check: every figure in a section's text, judged against the metric it is
stated for.

A typed pipeline: `extract` finds the figures (and leaves out what is not one),
`claims` reads what each states (metric, period, company, sign, hedge, range) from
the words of its clause or its table row and column, `known` reads the fact sheet
and raw data into values with the same attributes, and `match` judges each claim:
verified (by the metric named, by value alone when precise enough, or recomputed from
two facts), mismatch (the value is another metric's, period's, sign's or company's)
or unverified. `total_grounding` adds sections up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vast_ai.grounding.claims import read_claims
from vast_ai.grounding.extract import extract_figures
from vast_ai.grounding.match import index_for
from vast_ai.schemas import Fact, FigureCheck, ReportGrounding, SectionGrounding

__all__ = ["check_figures", "failing_share", "total_grounding"]


def check_figures(
    markdown: str, facts: Sequence[Fact], raw: Mapping[str, Any] | None = None
) -> SectionGrounding:
    """Find every figure in `markdown` and judge it against `facts` and `raw`.

    Offsets in the result index into `markdown` as given.
    """
    index = index_for(facts, raw)
    claims = read_claims(
        markdown, extract_figures(markdown), index.names, index.labels, index.fact_labels
    )
    checks: list[FigureCheck] = []
    for claim in claims:
        fig = claim.figure
        verdict = index.judge(claim)
        known = verdict.known
        checks.append(
            FigureCheck.model_validate(
                {
                    "text": fig.text,
                    "start": fig.start,
                    "end": fig.end,
                    "value": fig.value,
                    "kind": fig.kind,
                    "status": verdict.status,
                    "basis": verdict.basis,
                    "fact_key": known.key if known else None,
                    "fact_label": known.label if known else None,
                    "fact_display": known.display if known else None,
                    "note": verdict.note,
                }
            )
        )
    return SectionGrounding(
        found=len(checks),
        verified=sum(1 for c in checks if c.status == "verified"),
        mismatch=sum(1 for c in checks if c.status == "mismatch"),
        unverified=sum(1 for c in checks if c.status == "unverified"),
        value_only=sum(1 for c in checks if c.basis == "value_only"),
        derived=sum(1 for c in checks if c.basis == "derived"),
        figures=checks,
    )


def failing_share(g: SectionGrounding) -> float:
    """The fraction of a section's figures that fail the check (0 if none): not found
    in the data, or a mismatch (stated for another metric, period, sign or company),
    which a rewrite should fix just as much."""
    return (g.unverified + g.mismatch) / g.found if g.found else 0.0


def total_grounding(sections: Mapping[str, SectionGrounding], threshold: float) -> ReportGrounding:
    """Report totals; `sections_rewritten` lists the sections whose text was rewritten."""
    return ReportGrounding(
        found=sum(g.found for g in sections.values()),
        verified=sum(g.verified for g in sections.values()),
        mismatch=sum(g.mismatch for g in sections.values()),
        unverified=sum(g.unverified for g in sections.values()),
        value_only=sum(g.value_only for g in sections.values()),
        derived=sum(g.derived for g in sections.values()),
        sections_rewritten=[sid for sid, g in sections.items() if g.rewritten],
        threshold=threshold,
    )
