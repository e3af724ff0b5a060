"""Claim-level verification, one behaviour at a time, on the real fact sheets of AAPL,
OCDO.L (quoted in pence) and ORSTED.CO (DKK): each case is a sentence, the figure in
it, and what the check must say about it."""

from __future__ import annotations

import pytest

from tests.vast_ai.grounding.company_facts import company_data
from vast_ai.grounding import check_figures
from vast_ai.schemas import Fact, FigureCheck


def judged(ticker: str, text: str, figure: str, facts: list[Fact] | None = None) -> FigureCheck:
    own_facts, raw = company_data(ticker)
    checks = check_figures(text, [*own_facts, *(facts or [])], raw).figures
    found = [c for c in checks if c.text == figure]
    assert found, f"{figure!r} not found in {[c.text for c in checks]}"
    return found[0]


def verdict(ticker: str, text: str, figure: str) -> tuple[str, str | None]:
    check = judged(ticker, text, figure)
    return check.status, check.fact_key


@pytest.mark.parametrize(
    ("text", "figure", "fact"),
    [
        # margins, by their own names
        ("Gross margin was 46.2%.", "46.2%", "gross_margin"),
        ("The EBIT margin is 31.5%.", "31.5%", "operating_margin"),
        ("Apple's net profit margin of 24.0% leads the sector.", "24.0%", "net_margin"),
        ("A 24.0% profit margin.", "24.0%", "net_margin"),
        # P/E, trailing or forward by the words around it
        ("The trailing P/E is 38.8x.", "38.8x", "pe_trailing"),
        ("On a forward P/E of 29.4x the stock looks fair.", "29.4x", "pe_forward"),
        ("Shares trade at 29.4 times next year's earnings.", "29.4 times", "pe_forward"),
        ("The price-to-earnings ratio is 38.8.", "38.8", "pe_trailing"),
        # enterprise multiples
        ("EV/EBITDA stands at 27.1x.", "27.1x", "ev_to_ebitda"),
        ("It trades on 27.1 times EBITDA.", "27.1 times", "ev_to_ebitda"),
        ("An EV/sales multiple of 9.4x.", "9.4x", "ev_to_revenue"),
        ("It trades at 9.3x sales.", "9.3x", "price_to_sales"),
        # FCF yield against FCF margin
        ("The FCF yield is 2.7%.", "2.7%", "fcf_yield"),
        ("Free cash flow margin: 24.8%.", "24.8%", "fcf_margin"),
        # returns
        ("ROE of 164.6% is inflated by buybacks.", "164.6%", "roe"),
        ("Return on assets reached 25.7%.", "25.7%", "roa"),
        ("ROIC is 57.2%.", "57.2%", "roic"),
        # EPS
        ("Diluted EPS was $6.08 in FY2024.", "$6.08", "eps_diluted_fy2024"),
        ("Earnings per share of $6.30 over the last twelve months.", "$6.30", "eps_ttm"),
        # revenue by any of its names
        ("Sales were $391.0bn in FY2024.", "$391.0bn", "revenue_fy2024"),
        ("The top line reached $391.0bn in FY2024.", "$391.0bn", "revenue_fy2024"),
        ("Turnover of $383.3bn in FY2023.", "$383.3bn", "revenue_fy2023"),
        # net income by any of its names
        ("Net income was $93.7bn in FY2024.", "$93.7bn", "net_income_fy2024"),
        ("Earnings came to $93.7bn in FY2024.", "$93.7bn", "net_income_fy2024"),
        ("Profit fell to $93.7bn in fiscal 2024.", "$93.7bn", "net_income_fy2024"),
        ("The bottom line was $97.0bn in FY2023.", "$97.0bn", "net_income_fy2023"),
        # fiscal years and trailing twelve months
        ("FY2022 revenue was $394.3bn.", "$394.3bn", "revenue_fy2022"),
        ("Revenue in fiscal 2023 was $383.3bn.", "$383.3bn", "revenue_fy2023"),
        ("TTM revenue is $395.8bn.", "$395.8bn", "revenue_ttm"),
        ("Over the last twelve months net income was $96.2bn.", "$96.2bn", "net_income_ttm"),
    ],
)
def test_attributes_each_figure_to_the_metric_its_words_name(
    text: str, figure: str, fact: str
) -> None:
    assert verdict("AAPL", text, figure) == ("verified", fact)


@pytest.mark.parametrize(
    ("text", "figure", "really"),
    [
        ("The operating margin is 24.0%.", "24.0%", "net_margin"),
        ("The forward P/E is 38.8x.", "38.8x", "pe_trailing"),
        ("The FCF margin is 2.7%.", "2.7%", "fcf_yield"),
        ("ROA is 164.6%.", "164.6%", "roe"),
        ("Net income of $123.2bn in FY2024.", "$123.2bn", "operating_income_fy2024"),
        ("FY2023 revenue was $391.0bn.", "$391.0bn", "revenue_fy2024"),
        ("FY2024 revenue was $395.8bn.", "$395.8bn", "revenue_ttm"),
    ],
)
def test_a_value_of_another_metric_or_period_is_a_mismatch_naming_the_real_fact(
    text: str, figure: str, really: str
) -> None:
    check = judged("AAPL", text, figure)
    assert (check.status, check.fact_key, check.basis) == ("mismatch", really, None)
    assert check.note and check.note.startswith(f"{figure} is ")


def test_the_note_of_a_mismatch_says_what_the_figure_is_and_what_it_is_not() -> None:
    check = judged("AAPL", "The operating margin is 24.0%.", "24.0%")
    assert check.note == "24.0% is net margin (FY2024), not the operating margin"
    assert (check.fact_label, check.fact_display) == ("Net margin", "24.0%")


@pytest.mark.parametrize(
    ("ticker", "text", "figure", "status"),
    [
        # rise words against a rise, fall words against a fall
        ("AAPL", "Revenue grew 2.0% in FY2024.", "2.0%", "verified"),
        ("AAPL", "Revenue rose 2.0% in FY2024.", "2.0%", "verified"),
        ("AAPL", "Revenue was up 2.0% in FY2024.", "2.0%", "verified"),
        ("AAPL", "Revenue fell 2.0% in FY2024.", "2.0%", "mismatch"),
        ("AAPL", "Revenue declined 2.0% in FY2024.", "2.0%", "mismatch"),
        ("AAPL", "EPS fell 0.8% in FY2024.", "0.8%", "verified"),
        ("AAPL", "EPS was down 0.8% year on year.", "0.8%", "verified"),
        ("AAPL", "EPS gained 0.8% year on year.", "0.8%", "mismatch"),
        ("AAPL", "A 0.8% decline in EPS.", "0.8%", "verified"),
        ("ORSTED.CO", "Revenue declined 2.1% year on year.", "2.1%", "verified"),
        ("ORSTED.CO", "Revenue grew 2.1% year on year.", "2.1%", "mismatch"),
        ("ORSTED.CO", "Revenue growth was -2.1%.", "-2.1%", "verified"),
        # a level reached is no change: "fell to" states the level
        ("AAPL", "Net income fell to $93.7bn in FY2024.", "$93.7bn", "verified"),
        # loss, negative, outflow against the sign of the fact
        ("OCDO.L", "Ocado made a net loss of £216.6m.", "£216.6m", "verified"),
        ("OCDO.L", "Ocado made a net profit of £216.6m.", "£216.6m", "mismatch"),
        ("OCDO.L", "The operating margin is negative at 9.0%.", "9.0%", "verified"),
        ("OCDO.L", "The operating margin is 9.0%.", "9.0%", "mismatch"),
        ("OCDO.L", "Free cash flow was an outflow of £441.7m.", "£441.7m", "verified"),
        ("OCDO.L", "Free cash flow was £441.7m.", "£441.7m", "mismatch"),
        ("OCDO.L", "The loss per share was 26p.", "26p", "verified"),
        ("AAPL", "Apple posted a net loss of $93.7bn in FY2024.", "$93.7bn", "mismatch"),
        ("AAPL", "The shares suffered a 20.4% drawdown.", "20.4%", "verified"),
        ("AAPL", "Apple has net cash of $43.0bn.", "$43.0bn", "mismatch"),
        ("AAPL", "The mean target implies 3.1% upside.", "3.1%", "verified"),
        ("AAPL", "The mean target implies 3.1% downside.", "3.1%", "mismatch"),
    ],
)
def test_direction_in_words_must_agree_with_the_sign_of_the_fact(
    ticker: str, text: str, figure: str, status: str
) -> None:
    assert verdict(ticker, text, figure)[0] == status


def test_a_wrong_direction_says_which_way_the_data_goes() -> None:
    check = judged("ORSTED.CO", "Revenue grew 2.1% year on year.", "2.1%")
    assert check.fact_key == "revenue_growth_yoy"
    assert check.note and "-2.1% (a fall or a loss)" in check.note


@pytest.mark.parametrize(
    ("ticker", "text", "figure", "status", "fact"),
    [
        # pence and pounds
        ("OCDO.L", "The shares closed at 308.8p.", "308.8p", "verified", "price"),
        ("OCDO.L", "The share price is GBp 308.8.", "GBp 308.8", "verified", "price"),
        ("OCDO.L", "The share price is 308.8 pence.", "308.8 pence", "verified", "price"),
        ("OCDO.L", "The share price is £3.09.", "£3.09", "verified", "price"),
        ("OCDO.L", "The share price is £308.8.", "£308.8", "unverified", None),
        ("OCDO.L", "The share price is 3.09p.", "3.09p", "unverified", None),
        # units given only in a table's header or first column
        (
            "AAPL",
            "| | FY2024 |\n|---|---|\n| Revenue ($bn) | 391.0 |",
            "391.0",
            "verified",
            "revenue_fy2024",
        ),
        (
            "AAPL",
            "| Revenue | $bn |\n|---|---|\n| FY2023 | 383.3 |",
            "383.3",
            "verified",
            "revenue_fy2023",
        ),
        (
            "OCDO.L",
            "| £m | TTM |\n|---|---|\n| Revenue | 2,997.4 |",
            "2,997.4",
            "verified",
            "revenue_ttm",
        ),
        (
            "OCDO.L",
            "| TTM | |\n|---|---|\n| Net income (£m) | (216.6) |",
            "(216.6)",
            "verified",
            "net_income_ttm",
        ),
        (
            "ORSTED.CO",
            "| DKKbn | TTM |\n|---|---|\n| Net debt | 63.4 |",
            "63.4",
            "verified",
            "net_debt",
        ),
        ("ORSTED.CO", "| DKKm | TTM |\n|---|---|\n| Net debt | 63.4 |", "63.4", "unverified", None),
        (
            "OCDO.L",
            "| | Ocado |\n|---|---|\n| Share price (p) | 308.8 |",
            "308.8",
            "verified",
            "price",
        ),
        (
            "AAPL",
            "| Margin (%) | FY2024 |\n|---|---|\n| Gross | 46.2 |",
            "46.2",
            "verified",
            "gross_margin",
        ),
        # a bracketed amount in prose is an aside or a conversion, not a negative
        ("OCDO.L", "The share price of 308.8p (£3.09) is low.", "£3.09", "verified", "price"),
        ("OCDO.L", "Revenue of £3.0bn ($3.7bn) grew.", "$3.7bn", "unverified", None),
        ("OCDO.L", "Revenue of £3.0bn (+12.6% y/y).", "+12.6%", "verified", "revenue_growth_yoy"),
        # circa, emphasis, footnote marks
        ("AAPL", "ROIC of c.57% is high.", "57%", "verified", "roic"),
        ("AAPL", "The P/E is _38.8x_ trailing.", "38.8x", "verified", "pe_trailing"),
        ("AAPL", "The P/E is **38.8x** trailing.", "38.8x", "verified", "pe_trailing"),
        ("AAPL", "Gross margin of *46.2%*[^1].", "46.2%", "verified", "gross_margin"),
        ("AAPL", "Gross margin of 46.2%¹.", "46.2%", "verified", "gross_margin"),
    ],
)
def test_units_from_context(
    ticker: str, text: str, figure: str, status: str, fact: str | None
) -> None:
    assert verdict(ticker, text, figure) == (status, fact)


@pytest.mark.parametrize(
    ("text", "figure", "status"),
    [
        # about: a few percent either way
        ("Revenue of about $390bn in FY2024.", "$390bn", "verified"),
        ("Gross margin of around 46%.", "46%", "verified"),
        ("Gross margin of about 44%.", "44%", "unverified"),
        # nearly, just under, close to: at or below the stated value
        ("Revenue of nearly $400bn over the last twelve months.", "$400bn", "verified"),
        (
            "Free cash flow of just under $100bn over the trailing twelve months.",
            "$100bn",
            "verified",
        ),
        ("Revenue of nearly $390bn in FY2024.", "$390bn", "not verified"),  # it is more
        # more than, over, above: at or above it
        ("A market value of more than $3.5tn.", "$3.5tn", "verified"),
        ("A market value of over $3.6tn.", "$3.6tn", "verified"),
        ("A market value of more than $3.7tn.", "$3.7tn", "not verified"),  # it is less
        ("Gross margin of less than 50%.", "50%", "verified"),
        ("Gross margin of less than 45%.", "45%", "unverified"),
        ("Net margin just above 24%.", "24%", "verified"),
    ],
)
def test_hedges_widen_the_match_in_the_direction_they_state(
    text: str, figure: str, status: str
) -> None:
    got = verdict("AAPL", text, figure)[0]
    assert got != "verified" if status == "not verified" else got == status


@pytest.mark.parametrize(
    ("ticker", "text", "status"),
    [
        ("ORSTED.CO", "The operating margin is 22–23%.", "verified"),
        ("ORSTED.CO", "The operating margin is between 22% and 23%.", "verified"),
        ("ORSTED.CO", "Upside of 20–25% to the mean target.", "verified"),
        ("ORSTED.CO", "The operating margin is 24–26%.", "unverified"),
        ("ORSTED.CO", "The operating margin is 10–30%.", "unverified"),  # says too little
        ("AAPL", "Analyst targets range from $197 to $325.", "verified"),
        ("AAPL", "Analyst targets range from $210 to $300.", "unverified"),
    ],
)
def test_ranges_hold_the_truth_or_name_the_extremes(ticker: str, text: str, status: str) -> None:
    own, raw = company_data(ticker)
    assert {c.status for c in check_figures(text, own, raw).figures} == {status}


@pytest.mark.parametrize(
    ("raw", "text", "status"),
    [
        ({"financial_data": {"currentPrice": 38.8}}, "The P/E is 38.8x.", "unverified"),
        ({"financial_data": {"currentPrice": 38.8}}, "The share price is $38.80.", "verified"),
        ({"financial_data": {"profitMargins": 0.243}}, "Net margin of 24.3%.", "verified"),
        ({"financial_data": {"profitMargins": 0.243}}, "Net margin of 0.243.", "unverified"),
        ({"financial_data": {"beta": 1.2}}, "A dividend of $1.20 per share.", "unverified"),
        ({"financial_data": {"beta": 1.2}}, "Beta of 1.20.", "verified"),
        ({"financial_data": {"somethingElse": 24.3}}, "Net margin of 24.3%.", "unverified"),
    ],
)
def test_raw_data_matches_only_in_the_unit_its_key_names(
    raw: dict[str, dict[str, float]], text: str, status: str
) -> None:
    assert [c.status for c in check_figures(text, [], raw).figures] == [status]


@pytest.mark.parametrize(
    "text",
    [
        "The iPhone 16 and Apple Watch Series 2 sold well; Vision Pro launched in Feb 2024.",
        "Leases fall under IFRS 16 and ASC 842; insiders sell under Rule 10b5-1.",
        "The 510(k) clearance is described in Item 7 and Item 1A of the Form 20-F.",
        "It is in the S&P 500, the Nasdaq-100, the FTSE 100 and the OMX Copenhagen 25.",
        "Results come at 4:30 p.m., or 07:00 CET, or 4pm.",
        "Compare 9M 2024, 4Q24, H1 2025, FY2024 and Q3 FY25.",
        "As footnoted[^2] and in note (3).",
        "Over the past 52 weeks and the last 12 months, in a 3-year plan.",
        "The 1st and 53rd weeks.",
        "On 2025-02-14, February 14, 2025, 14 Feb 2025 and 14/02/2025, as in 2024.",
        "Hornsea 3 and Scope 1 and 2 emissions, on a 1.5°C pathway.",
    ],
)
def test_things_that_are_not_figures_are_not_checked(text: str) -> None:
    own, raw = company_data("AAPL")
    assert check_figures(text, own, raw).figures == []


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("Net income declined 3.4% in FY2024.", "3.4%"),  # 93.74 against 97.00
        ("Operating income grew 7.8% in fiscal 2024.", "7.8%"),
        ("Revenue fell 2.8% in FY2023.", "2.8%"),  # 383.29 against 394.33
        ("Revenue increased by $7.8bn in FY2024.", "$7.8bn"),
        ("The FY2023 gross margin was 44.1%.", "44.1%"),  # 169.15 / 383.29
        ("Gross margin widened by about 210bps in FY2024.", "210bps"),
        ("Free cash flow was 27.8% of revenue in FY2024.", "27.8%"),  # 108.81 / 391.04
    ],
)
def test_a_figure_recomputed_from_two_listed_facts_is_derived(text: str, figure: str) -> None:
    check = judged("AAPL", text, figure)
    assert (check.status, check.basis) == ("verified", "derived")
    assert check.note and check.note.startswith("recomputed")


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("Net income declined 5.0% in FY2024.", "5.0%"),
        ("Revenue rose 2.8% in FY2023.", "2.8%"),  # it fell
        ("The FY2023 gross margin was 45.0%.", "45.0%"),
        ("Services revenue grew 12.9%.", "12.9%"),  # no services line in the data
    ],
)
def test_a_computed_figure_the_facts_do_not_give_is_not_verified(text: str, figure: str) -> None:
    assert judged("AAPL", text, figure).status != "verified"


@pytest.mark.parametrize(
    ("text", "figure", "status"),
    [
        ("Few companies reach $391.04bn of anything.", "$391.04bn", "verified"),  # 5 digits
        ("That is the $3.72T question.", "$3.72T", "verified"),
        ("The 2.07 reading.", "2.07", "verified"),  # 3 digits
        ("A remarkable 16% in a year.", "16%", "unverified"),  # 2 digits: chance
        ("Some 20% of the time.", "20%", "unverified"),
    ],
)
def test_a_figure_with_no_metric_matches_by_value_only_when_precise(
    text: str, figure: str, status: str
) -> None:
    check = judged("AAPL", text, figure)
    assert check.status == status
    if status == "verified":
        assert check.basis == "value_only"


def test_a_precise_figure_two_metrics_share_is_not_matched_by_value() -> None:
    # Ørsted's operating margin and position in its 52-week range are both 22.7%
    check = judged("ORSTED.CO", "We count 22.7% twice.", "22.7%")
    assert check.status == "unverified"
    assert check.note and "operating margin" in check.note.lower()


def test_counts_tell_metric_value_only_and_derived_matches_apart() -> None:
    own, raw = company_data("AAPL")
    g = check_figures(
        "Gross margin was 46.2%. Net income declined 3.4% in FY2024. That is the $3.72T "
        "question. Revenue fell 2.0% in FY2024. EPS of $9.99.",
        own,
        raw,
    )
    assert (g.found, g.verified, g.mismatch, g.unverified) == (5, 3, 1, 1)
    assert (g.value_only, g.derived) == (1, 1)


PEERS = [
    Fact(
        key="msft_pe",
        label="MSFT P/E (trailing)",
        value=35.0,
        display="35.0x",
        unit="multiple",
        subject="MSFT",
    ),
    Fact(
        key="msft_gross_margin",
        label="Microsoft gross margin",
        value=0.69,
        display="69.0%",
        unit="percent",
        subject="MSFT",
    ),
]


@pytest.mark.parametrize(
    ("text", "figure", "status", "fact"),
    [
        (
            "Apple trades at 38.8x earnings, against 35.0x for Microsoft.",
            "35.0x",
            "verified",
            "msft_pe",
        ),
        ("MSFT trades at 35.0x earnings.", "35.0x", "verified", "msft_pe"),
        ("Microsoft's gross margin is 69.0%.", "69.0%", "verified", "msft_gross_margin"),
        ("Apple trades at 35.0x earnings.", "35.0x", "mismatch", "msft_pe"),
        ("Microsoft trades at 38.8x earnings.", "38.8x", "mismatch", "pe_trailing"),
        ("Microsoft's gross margin is 46.2%.", "46.2%", "mismatch", "gross_margin"),
        ("| Company | P/E |\n|---|---|\n| MSFT | 35.0x |", "35.0x", "verified", "msft_pe"),
        ("| Company | P/E |\n|---|---|\n| Apple | 35.0x |", "35.0x", "mismatch", "msft_pe"),
    ],
)
def test_a_peers_figure_verifies_only_for_the_peer_the_clause_names(
    text: str, figure: str, status: str, fact: str
) -> None:
    check = judged("AAPL", text, figure, PEERS)
    assert (check.status, check.fact_key) == (status, fact)


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        (
            "Gross, operating and net margins were 46.2%, 31.5% and 24.0%.",
            ["gross_margin", "operating_margin", "net_margin"],
        ),
        (
            "Revenue, net income and free cash flow were $391.0bn, $93.7bn and $108.8bn in FY2024.",
            ["revenue_fy2024", "net_income_fy2024", "free_cash_flow_fy2024"],
        ),
        (
            "FY2023 and FY2024 revenue was $383.3bn and $391.0bn.",
            ["revenue_fy2023", "revenue_fy2024"],
        ),
        (
            "Revenue of $383.3bn and $391.0bn in FY2023 and FY2024 respectively.",
            ["revenue_fy2023", "revenue_fy2024"],
        ),
        ("The trailing and forward P/E are 38.8x and 29.4x.", ["pe_trailing", "pe_forward"]),
    ],
)
def test_a_list_of_figures_takes_the_metrics_and_periods_of_a_list_of_as_many(
    text: str, facts: list[str]
) -> None:
    own, raw = company_data("AAPL")
    checks = check_figures(text, own, raw).figures
    assert [(c.status, c.fact_key) for c in checks] == [("verified", f) for f in facts]


def test_a_list_in_the_wrong_order_is_a_mismatch() -> None:
    own, raw = company_data("AAPL")
    checks = check_figures("Operating and gross margins of 46.2% and 31.5%.", own, raw).figures
    assert [(c.status, c.fact_key) for c in checks] == [
        ("mismatch", "gross_margin"),
        ("mismatch", "operating_margin"),
    ]


@pytest.mark.parametrize("ticker", ["AAPL", "OCDO.L", "ORSTED.CO"])
def test_the_fact_sheet_listed_as_labels_and_displays_verifies_in_full(ticker: str) -> None:
    # as the data-only writer lists it: "- Recommendation score (1 strong buy - 5 sell): 2.07"
    facts, raw = company_data(ticker)
    text = "\n".join(
        f"- {f.label}" + (f" ({f.period})" if f.period else "") + f": {f.display}" for f in facts
    )
    g = check_figures(text, facts, raw)
    assert (g.found, g.verified) == (len(facts), len(facts))
    assert [c.fact_key for c in g.figures] == [f.key for f in facts]


@pytest.mark.parametrize(
    ("text", "figure", "note"),
    [
        # the price words before a multiple are its numerator, not the metric stated
        (
            "The stock trades at 77.7x sales.",
            "77.7x",
            "the data has no price/sales figure of 77.7x",
        ),
        (
            "The stock, at 77.7x sales, is dear.",
            "77.7x",
            "the data has no price/sales figure of 77.7x",
        ),
        ("Apple trades at 77.7x EBIT.", "77.7x", "the data has no EV/EBIT figure of 77.7x"),
        # several metrics the words may name: each by its name
        ("The dividend was $9.99.", "$9.99", "the data has no dividend per share figure of $9.99"),
    ],
)
def test_a_note_names_a_missing_metric_as_a_reader_would(text: str, figure: str, note: str) -> None:
    facts, raw = company_data("AAPL")
    missing = ("price_to_sales", "ev_to_revenue", "ev_to_ebit", "dps", "dividends_paid")
    kept = [f for f in facts if f.key not in missing and "dividend" not in f.key]
    checks = [c for c in check_figures(text, kept, {"company_data": raw["company_data"]}).figures]
    check = next(c for c in checks if c.text == figure)
    assert (check.status, check.note) == ("unverified", note)
