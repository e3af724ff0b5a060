"""What the writer makes of a section's grounding: how much of it fails, what to tell the
model in a rewrite, and what to tell the reader when the final draft still fails.

A figure fails the check when it is `mismatch` (the value belongs to another metric,
period or sign) or `unverified` (no such value in the data).
"""

from __future__ import annotations

from vast_ai.schemas import FigureCheck, SectionGrounding

# How many failing figures a section's reason names before "and N more".
_NAMED = 5


def failing_figures(grounding: SectionGrounding) -> list[FigureCheck]:
    return [figure for figure in grounding.figures if figure.status != "verified"]


def correction(figure: FigureCheck) -> str:
    """One failing figure, said for people: what it really is, or that it is not in the data."""
    if figure.note:
        # The check's notes on a mismatch name the figure; those on a missing value do not.
        return (
            figure.note if figure.note.startswith(figure.text) else f"{figure.text}: {figure.note}"
        )
    if figure.status == "mismatch" and figure.fact_label:
        shown = figure.fact_display
        shown = f" ({shown})" if shown and shown != figure.text else ""
        return f"{figure.text} is the {figure.fact_label}{shown}, not the metric the draft gave"
    return f"{figure.text} is not in the data"


def corrections(grounding: SectionGrounding) -> list[str]:
    """Each failing figure once, in the order the text states them."""
    return list(dict.fromkeys(correction(figure) for figure in failing_figures(grounding)))


def check_reason(grounding: SectionGrounding, *, not_rewritten: str | None = None) -> str:
    """Why a final draft fails the check, naming its failing figures."""
    named = corrections(grounding)
    listed = "; ".join(named[:_NAMED])
    if len(named) > _NAMED:
        listed += f"; and {len(named) - _NAMED} more"
    failing = len(failing_figures(grounding))
    reason = f"{failing} of {grounding.found} figures failed the check against the data: {listed}."
    if not_rewritten:
        reason += f" {not_rewritten}"
    return reason
