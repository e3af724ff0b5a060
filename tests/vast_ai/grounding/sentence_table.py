"""Score the grounding check on the hand-written sentence tables (sentences/*.yaml).

Each figure a table lists has a category; the score is the share of each category the
check gets right: true figures verified; invented, wrong-unit, wrong-metric, wrong-
period and wrong-direction figures not verified; non-figures and dates not extracted
(an extracted figure the table does not list counts as a non-figure extracted).
`python -m tests.vast_ai.grounding.sentence_table` prints the score and every miss.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.vast_ai.grounding.company_facts import company_data
from vast_ai.grounding import check_figures
from vast_ai.schemas import FigureCheck

TABLES = Path(__file__).parent / "sentences"
TRUE = ("true", "derived", "value_only")
FALSE = ("invented", "unit", "metric", "period", "direction")
# The targets the held-out set is scored against.
TRUE_VERIFIED = 0.97
FALSE_NOT_VERIFIED = 0.95
NON_FIGURES_EXTRACTED = 0.02


@dataclass
class Score:
    figures: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    exact: Counter[str] = field(default_factory=Counter)  # status, basis and fact as expected
    non_figures: int = 0
    non_figures_extracted: int = 0
    dates: int = 0
    dates_extracted: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, categories: tuple[str, ...]) -> float:
        total = sum(self.figures[c] for c in categories)
        return sum(self.right[c] for c in categories) / total if total else 1.0

    @property
    def non_figure_rate(self) -> float:
        listed = self.non_figures + self.dates
        return self.non_figures_extracted / listed if listed else 0.0

    def summary(self) -> str:
        lines = [f"{'category':<12}{'figures':>8}{'right':>7}{'exact':>7}{'rate':>8}"]
        for category in (*TRUE, *FALSE):
            n = self.figures[category]
            if n:
                lines.append(
                    f"{category:<12}{n:>8}{self.right[category]:>7}{self.exact[category]:>7}"
                    f"{self.right[category] / n:>8.1%}"
                )
        lines.append(
            f"true figures verified: {self.rate(TRUE):.1%} (target >= {TRUE_VERIFIED:.0%}); "
            f"false figures not verified: {self.rate(FALSE):.1%} "
            f"(target >= {FALSE_NOT_VERIFIED:.0%}); non-figures extracted: "
            f"{self.non_figures_extracted} of {self.non_figures + self.dates} "
            f"({self.non_figure_rate:.1%}, target <= {NON_FIGURES_EXTRACTED:.0%}); "
            f"dates extracted: {self.dates_extracted} of {self.dates} (target 0)"
        )
        return "\n".join(lines)


def load_tables() -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(TABLES.glob("*.yaml"))
    ]


def _right(category: str, check: FigureCheck | None) -> bool:
    if category in TRUE:
        return check is not None and check.status == "verified"
    return check is None or check.status != "verified"


def _exact(category: str, fact: str | None, check: FigureCheck | None) -> bool:
    if check is None:
        return False
    expected_status = {"true": "verified", "derived": "verified", "value_only": "verified"}.get(
        category, "mismatch" if category in ("metric", "period", "direction") else "unverified"
    )
    expected_basis = {"true": "metric", "derived": "derived", "value_only": "value_only"}.get(
        category
    )
    return (
        check.status == expected_status
        and check.basis == expected_basis
        and (fact is None or check.fact_key == fact)
    )


def _described(check: FigureCheck) -> str:
    return f"{check.status} {check.basis or ''} {check.fact_key or ''} {check.note or ''}"


def _overlaps(text: str, needle: str, checks: list[FigureCheck], after: int) -> tuple[bool, int]:
    start = text.find(needle, after)
    if start < 0:
        raise ValueError(f"{needle!r} is not in {text!r}")
    end = start + len(needle)
    return any(c.start < end and start < c.end for c in checks), end


def score() -> Score:
    result = Score()
    for table in load_tables():
        facts, raw = company_data(table["company"])
        for sentence in table["sentences"]:
            text = sentence["text"]
            checks = check_figures(text, facts, raw).figures
            unused = list(checks)
            for figure_text, listed_category, fact in sentence.get("figures", []):
                category = str(listed_category).lower()  # YAML reads a bare true as True
                check = next((c for c in unused if c.text == str(figure_text)), None)
                if check is not None:
                    unused.remove(check)
                result.figures[category] += 1
                result.right[category] += _right(category, check)
                result.exact[category] += _exact(category, fact, check)
                if not _right(category, check) or not _exact(category, fact, check):
                    got = "not found" if check is None else _described(check)
                    mark = "WRONG" if not _right(category, check) else "inexact"
                    result.misses.append(
                        f"{mark} [{category} {fact}] {figure_text!r}: {got}\n    in {text!r}"
                    )
            for key in ("non_figures", "dates"):
                after = 0
                for needle in sentence.get(key, []):
                    hit, after = _overlaps(text, str(needle), checks, after)
                    if key == "dates":
                        result.dates += 1
                        result.dates_extracted += hit
                    else:
                        result.non_figures += 1
                    result.non_figures_extracted += hit
                    if hit:
                        result.misses.append(f"WRONG [{key}] {needle!r} extracted in {text!r}")
            for check in unused:
                result.non_figures_extracted += 1
                result.misses.append(f"WRONG [unlisted] {check.text!r} extracted in {text!r}")
    return result


if __name__ == "__main__":
    scored = score()
    print("\n".join(scored.misses))
    print(scored.summary())
