"""The trust check: every figure in a section's text, matched against the data.

`check_figures` marks each figure in a section verified (it states a fact or raw
value, to the precision shown) or unverified; `total_grounding` adds sections up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vast_ai.grounding.extract import extract_figures
from vast_ai.grounding.match import index_for
from vast_ai.schemas import Fact, FigureCheck, ReportGrounding, SectionGrounding

__all__ = ["check_figures", "total_grounding", "unverified_share"]


def check_figures(
    markdown: str, facts: Sequence[Fact], raw: Mapping[str, Any] | None = None
) -> SectionGrounding:
    """Find every figure in `markdown` and match it against `facts` and `raw`.

    Offsets in the result index into `markdown` as given.
    """
    index = index_for(facts, raw)
    checks: list[FigureCheck] = []
    for fig in extract_figures(markdown):
        known = index.match(fig)
        # Built by this code with the right types: construct skips re-validating them.
        checks.append(
            FigureCheck.model_construct(
                text=fig.text,
                start=fig.start,
                end=fig.end,
                value=fig.value,
                kind=fig.kind,
                status="verified" if known else "unverified",
                fact_key=known.key if known else None,
                fact_label=known.label if known else None,
                fact_display=known.display if known else None,
            )
        )
    verified = sum(1 for c in checks if c.status == "verified")
    return SectionGrounding(
        found=len(checks), verified=verified, unverified=len(checks) - verified, figures=checks
    )


def unverified_share(g: SectionGrounding) -> float:
    """The fraction of a section's figures that were not found in the data (0 if none)."""
    return g.unverified / g.found if g.found else 0.0


def total_grounding(sections: Mapping[str, SectionGrounding], threshold: float) -> ReportGrounding:
    """Report totals; `sections_rewritten` lists the sections whose text was rewritten."""
    return ReportGrounding(
        found=sum(g.found for g in sections.values()),
        verified=sum(g.verified for g in sections.values()),
        unverified=sum(g.unverified for g in sections.values()),
        sections_rewritten=[sid for sid, g in sections.items() if g.rewritten],
        threshold=threshold,
    )
