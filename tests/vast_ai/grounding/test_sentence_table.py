"""The hand-written sentence tables (sentences/*.yaml) against the held-out set's targets."""

from __future__ import annotations

from tests.vast_ai.grounding.sentence_table import (
    FALSE,
    FALSE_NOT_VERIFIED,
    NON_FIGURES_EXTRACTED,
    TRUE,
    TRUE_VERIFIED,
    score,
)


def test_sentence_tables_meet_the_targets() -> None:
    scored = score()
    report = scored.summary() + "\n" + "\n".join(m for m in scored.misses if m.startswith("WRONG"))
    print(report)  # the per-category rates, shown with pytest -s
    assert sum(scored.figures.values()) >= 300, "hundreds of figures"
    assert scored.rate(TRUE) >= TRUE_VERIFIED, report
    assert scored.rate(FALSE) >= FALSE_NOT_VERIFIED, report
    assert scored.non_figure_rate <= NON_FIGURES_EXTRACTED, report
    assert scored.dates_extracted == 0, report
