"""Judging figures against the fact sheet and raw data at the precision shown, and the
section and report counts."""

from __future__ import annotations

import pytest

from vast_ai.grounding import check_figures, failing_share, total_grounding
from vast_ai.schemas import Fact, SectionGrounding

FACTS = [
    Fact(
        key="revenue",
        label="Revenue (TTM)",
        value=391_035_000_000.0,
        display="$391.04B",
        unit="currency",
        currency="USD",
    ),
    Fact(key="gross_margin", label="Gross margin", value=0.46206, display="46.2%", unit="percent"),
    Fact(key="revenue_growth", label="Revenue growth", value=2.02, display="2.0%", unit="percent"),
    Fact(
        key="net_income",
        label="Net income",
        value=-45_200_000.0,
        display="-$45.2M",
        unit="currency",
        currency="USD",
    ),
    Fact(
        key="margin_change",
        label="Gross margin change",
        value=0.0125,
        display="+1.25pp",
        unit="percent",
    ),
    Fact(key="pe", label="P/E (TTM)", value=38.81, display="38.8x", unit="multiple"),
    Fact(
        key="eps", label="EPS (TTM)", value=6.08, display="$6.08", unit="per_share", currency="USD"
    ),
    Fact(key="employees", label="Employees", value=164_000, display="164,000", unit="count"),
    Fact(key="beta", label="Beta", value=1.24, display="1.24", unit="number"),
    Fact(key="missing", label="Forward P/E", value=None, display="n/a", unit="multiple"),
]


def status(text: str, facts: list[Fact] = FACTS, raw: dict | None = None) -> list[str]:
    return [f.status for f in check_figures(text, facts, raw).figures]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # rounding at each precision the text shows
        ("revenue of $391.04B", "verified"),
        ("revenue of $391.0B", "verified"),
        ("revenue of $391B", "verified"),
        ("revenue of $0.39T", "verified"),
        ("revenue of $391,035 million", "verified"),
        ("revenue of 391 billion dollars", "verified"),
        ("gross margin of 46.2%", "verified"),
        ("a 46% gross margin", "verified"),
        ("gross margin of 46.21%", "verified"),
        ("a P/E of 38.8x", "verified"),
        ("39x earnings", "verified"),
        ("EPS of $6.08 per share", "verified"),
        ("EPS of $6.1", "verified"),
        ("164,000 employees", "verified"),
        ("164 thousand employees", "verified"),
        ("a beta of 1.24", "verified"),
        # one unit off in the last place shown is not verified
        ("revenue of $391.05B", "unverified"),
        ("revenue of $392B", "unverified"),
        ("revenue of $391.1B", "unverified"),
        ("gross margin of 46.3%", "unverified"),
        ("gross margin of 46.22%", "unverified"),
        ("a P/E of 38.9x", "unverified"),
        ("EPS of $6.09 per share", "unverified"),
        ("164,001 employees", "unverified"),
        ("a beta of 1.25", "unverified"),
        # percent and fraction are the same figure; a fact already in percent points too
        ("revenue growth of 2.0%", "verified"),
        ("revenue growth of 2.1%", "unverified"),
        # percentage points and basis points
        ("gross margin up 1.25 percentage points", "verified"),
        ("gross margin up 125bps", "verified"),
        ("gross margin up 125 basis points", "verified"),
        ("gross margin up 126bps", "unverified"),
        ("gross margin up 1.3pp", "verified"),
        ("gross margin up 1.4pp", "unverified"),
        # wrong currency, wrong unit
        ("revenue of £391.04B", "unverified"),
        ("EPS of €6.08 per share", "unverified"),
        ("a P/E of 46.2x", "unverified"),  # 46.2 is a margin, not a multiple
        ("a net margin of 46.2%", "mismatch"),  # it is the gross margin
        ("a beta of 1.24%", "unverified"),
        ("a 38.8% gross margin", "unverified"),
        # signs: stated or worded, they must agree
        ("net income of -$45.2M", "verified"),
        ("a net loss of $45.2M", "verified"),
        ("net income fell to -$45.2M", "verified"),
        ("revenue of -$391.04B", "mismatch"),
        ("net income of +$45.2M", "mismatch"),
        ("net income of $45.2M", "mismatch"),
    ],
)
def test_matches_facts_at_the_precision_shown(text: str, expected: str) -> None:
    assert status(text) == [expected]


def test_a_margin_matches_a_fraction_at_the_edge_of_rounding() -> None:
    def margin(value: float) -> list[Fact]:
        return [Fact(key="m", label="Margin", value=value, display="", unit="percent")]

    assert status("a margin of 24.3%", margin(0.2429)) == ["verified"]
    assert status("a margin of 24.3%", margin(0.2434)) == ["verified"]
    assert status("a margin of 24.3%", margin(0.2424)) == ["unverified"]
    assert status("a margin of 24.3%", margin(0.2436)) == ["unverified"]


def test_verified_figures_name_the_fact_they_match() -> None:
    (fig,) = check_figures("Revenue was $391.04B.", FACTS).figures
    assert (fig.fact_key, fig.fact_label, fig.fact_display, fig.basis) == (
        "revenue",
        "Revenue (TTM)",
        "$391.04B",
        "metric",
    )
    assert (fig.start, fig.end, fig.value) == (12, 20, pytest.approx(391.04e9))


RAW = {
    "company_data": {"currency": "USD", "fullTimeEmployees": 164000},
    "financial_data": {
        "profitMargins": 0.2397,
        "trailingPE": {"raw": 37.5, "fmt": "37.50"},
        "freeCashflow": 108_807_000_000,
        "history": [{"totalRevenue": 383_285_000_000}],
        "exDividendDate": 1_731_024_000,
        "isProfitable": True,
    },
}


@pytest.mark.parametrize(
    ("text", "expected", "key"),
    [
        ("a 24.0% net margin", "verified", "raw:financial_data.profitMargins"),
        ("37.5x trailing earnings", "verified", "raw:financial_data.trailingPE.raw"),
        ("$108.8B of free cash flow", "verified", "raw:financial_data.freeCashflow"),
        (
            "revenue of $383.3B a year earlier",
            "verified",
            "raw:financial_data.history.0.totalRevenue",
        ),
        ("£108.8B of free cash flow", "unverified", None),
        ("a dividend of $1.73B", "unverified", None),  # an epoch date is not a figure
        ("a net margin of 23.97%", "verified", "raw:financial_data.profitMargins"),
        ("164,000 employees", "verified", "raw:company_data.fullTimeEmployees"),
    ],
)
def test_matches_nested_raw_values_by_the_metric_their_key_names(
    text: str, expected: str, key: str | None
) -> None:
    (fig,) = check_figures(text, [], RAW).figures
    assert (fig.status, fig.fact_key) == (expected, key)


def test_a_fact_wins_over_raw_data() -> None:
    (fig,) = check_figures("164,000 staff", FACTS, RAW).figures
    assert fig.fact_key == "employees"


def test_counts_per_section() -> None:
    g = check_figures(
        "Revenue $391.04B, gross margin 46.2%, net margin 12.5%, a P/E of 1.24x, in 2024.", FACTS
    )
    assert (g.found, g.verified, g.mismatch, g.unverified) == (4, 2, 0, 2)
    g = check_figures("Revenue $391.04B, gross margin 46.2%, net margin 12.5%, EPS $1.24.", FACTS)
    assert (g.found, g.verified, g.mismatch, g.unverified) == (4, 2, 0, 2)
    g = check_figures("Revenue $391.04B, gross margin 46.2%, operating margin 46.2%.", FACTS)
    assert (g.found, g.verified, g.mismatch, g.unverified) == (3, 2, 1, 0)
    assert [f.text for f in g.figures if f.status == "mismatch"] == ["46.2%"]
    assert failing_share(g) == pytest.approx(1 / 3)  # a mismatch fails as unverified does


def test_no_figures_is_nothing_unverified() -> None:
    g = check_figures("The company designs phones.", FACTS)
    assert (g.found, failing_share(g)) == (0, 0.0)


def test_report_totals() -> None:
    sections = {
        "valuation": SectionGrounding(
            found=10, verified=7, mismatch=1, unverified=2, value_only=1, derived=2, rewritten=True
        ),
        "risks": SectionGrounding(found=3, verified=3, unverified=0, derived=1),
    }
    total = total_grounding(sections, threshold=0.25)
    assert (total.found, total.verified, total.mismatch, total.unverified) == (13, 10, 1, 2)
    assert (total.value_only, total.derived) == (1, 3)
    assert total.sections_rewritten == ["valuation"]
    assert total.threshold == 0.25


def test_new_data_is_never_matched_against_an_earlier_reports_index() -> None:
    facts: list[Fact] = []
    first = {"financial_data": {"freeCashflow": 5e9}}
    assert status("FCF of $5B", facts, first) == ["verified"]
    assert status("FCF of $5B", facts, {"financial_data": {"freeCashflow": 6e9}}) == ["unverified"]
    # the same values in a rebuilt outer dict, as the report writer passes them
    assert status("FCF of $5B", facts, {"financial_data": first["financial_data"]}) == ["verified"]
