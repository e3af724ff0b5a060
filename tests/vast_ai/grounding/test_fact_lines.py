"""The fact sheet's own lines: a fact's label names that fact, its numbers are words."""

from __future__ import annotations

import pytest

from tests.vast_ai.grounding.company_facts import company_data
from vast_ai.grounding import check_figures


@pytest.mark.parametrize(
    ("line", "status", "fact"),
    [
        ("- EPS estimates cut in 7 days (FY2025): 1", "verified", "eps_revisions_down_7d_fy2025"),
        (
            "- EPS estimates cut in 30 days (FY2025): 17",
            "verified",
            "eps_revisions_down_30d_fy2025",
        ),
        # the 7-day count stated for the 30-day window: another fact's value
        ("- EPS estimates cut in 30 days (FY2025): 1", "mismatch", None),
        ("- Cash-flow growth, forecast year 1: 4.6%", "verified", "dcf_growth_year_1"),
        ("- Cash-flow growth, forecast year 1: 8.1%", "mismatch", None),
        ("- DCF value per share (as of 2025-02-14): $109.84", "verified", "dcf_value_per_share"),
        ("- DCF value per share: $126.62", "mismatch", "dcf_value_high"),
        (
            "- AAPL's rank by Net margin among 2 companies (1 = highest) "
            "(latest reported (peers)): 1",
            "verified",
            "peer_rank_net_margin",
        ),
        ("- CRM Gross margin (TTM): 76.9%", "verified", "peer_crm_gross_margin"),
        ("- Peer median Net margin (latest reported (peers)): 16.0%", "verified", None),
        ("- Institutions holding shares (as of 2025-02-14): 6,957", "unverified", None),
    ],
)
def test_a_fact_line_is_judged_against_the_fact_its_label_names(
    line: str, status: str, fact: str | None
) -> None:
    facts, raw = company_data("AAPL report")
    checks = check_figures(line, facts, raw).figures
    assert len(checks) == 1, [c.text for c in checks]  # no number of the label is a figure
    assert checks[0].status == status, checks[0].note
    if fact is not None:
        assert checks[0].fact_key == fact
