"""A section as an analyst would write it, checked against AAPL's real fact sheet and
raw data (from the replayed Yahoo recordings, kept in fixtures/gemma_aapl_facts.json)."""

from __future__ import annotations

from tests.vast_ai.grounding.gemma_fixture import load_data
from vast_ai.grounding import check_figures

SECTION = """\
Apple trades at **38.8x** trailing earnings and 29.4x forward, a PEG of 3.8x. At $244.60 the
shares sit at 83.9% of their 52-week range, with a market capitalisation of $3.67 trillion and
an enterprise value of $3.72T. Revenue grew 2.0% in FY2024 to $391.0 billion while EPS slipped
0.8% to $6.08 per share.

| Metric | FY2023 | FY2024 |
|---|---:|---:|
| Revenue | $383.29B | $391.04B |
| Net income | $97.0B | $93.7B |

1. Gross margin of 46.2% and operating margin of 31.5%.
2. FCF yield of 2.7% and a 0.4% dividend yield; payout ratio 15.7%.
3. Analysts (40 of them) see 3.1% upside to a $252.23 mean target, range $197–$325.
4. Beta of 1.2; net debt of $43.0 billion; ROE 164.6%.

We also expect a 12.5% services margin, 25x EV/EBIT, $410B of revenue in 2025 and margins
up 150bps.
"""


def test_every_quoted_fact_is_verified_and_every_invented_figure_flagged() -> None:
    facts, raw = load_data()
    g = check_figures(SECTION, facts, raw)
    unverified = [f.text for f in g.figures if f.status == "unverified"]
    assert unverified == ["12.5%", "25x", "$410B", "150bps"]
    matched = {f.text: f.fact_key for f in g.figures if f.status == "verified"}
    assert matched["$3.67 trillion"] == "market_cap"
    assert matched["$391.0 billion"] == "revenue_fy2024"
    assert matched["$97.0B"] == "net_income_fy2023"
    assert matched["0.8%"] == "eps_growth_yoy"  # "slipped 0.8%" states the -0.8%
    assert matched["$197"] == "target_low"
    assert (g.found, g.verified, g.unverified) == (32, 28, 4)
