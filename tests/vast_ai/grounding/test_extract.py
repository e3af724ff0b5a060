"""The figure extractor: every number format it must find, and what it must leave out."""

from __future__ import annotations

import pytest

from vast_ai.grounding.extract import extract_figures


def found(text: str) -> list[tuple[str, float, str]]:
    return [(f.text, f.value, f.kind) for f in extract_figures(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Revenue was $391.04B.", [("$391.04B", 391.04e9, "money")]),
        ("revenue of 391 billion", [("391 billion", 391e9, "money")]),
        ("worth USD 3.67 trillion", [("USD 3.67 trillion", 3.67e12, "money")]),
        ("sales of £1.2bn", [("£1.2bn", 1.2e9, "money")]),
        ("a loss (45.2M) in prose", [("45.2M", 45.2e6, "money")]),  # an aside, not a negative
        ("shares at 308.8p", [("308.8p", 3.088, "money")]),
        ("GBp 308.8 a share", [("GBp 308.8", 3.088, "per_share")]),
        ("a 26 pence loss", [("26 pence", 0.26, "money")]),
        ("DKKbn 71.0 of sales", [("DKKbn 71.0", 71.0e9, "money")]),
        ("DKK71bn of sales", [("DKK71bn", 71.0e9, "money")]),
        ("125.9 billion kroner", [("125.9 billion kroner", 125.9e9, "money")]),
        ("margin of c.13%", [("13%", 13.0, "percent")]),
        ("at _38.8x_ earnings", [("38.8x", 38.8, "multiple")]),
        ("at *38.8x* and **46.2%**", [("38.8x", 38.8, "multiple"), ("46.2%", 46.2, "percent")]),
        ("margin 46.2%[^1] and 46.2%¹", [("46.2%", 46.2, "percent"), ("46.2%", 46.2, "percent")]),
        ("growth of 5pc", [("5pc", 5.0, "percent")]),
        ("12.6 per cent", [("12.6 per cent", 12.6, "percent")]),
        ("–2.1% in the year", [("–2.1%", -2.1, "percent")]),
        ("€5.2 million", [("€5.2 million", 5.2e6, "money")]),
        ("¥120 billion", [("¥120 billion", 120e9, "money")]),
        ("priced at kr 45", [("kr 45", 45.0, "money")]),
        ("DKK 12.3bn", [("DKK 12.3bn", 12.3e9, "money")]),
        ("Rp 1.2 trillion", [("Rp 1.2 trillion", 1.2e12, "money")]),
        ("sales of 12.3 billion USD", [("12.3 billion USD", 12.3e9, "money")]),
        ("$5.5K", [("$5.5K", 5500.0, "money")]),
        ("margin of 24.3%", [("24.3%", 24.3, "percent")]),
        ("margin of 24.3 percent", [("24.3 percent", 24.3, "percent")]),
        ("margin up 120bps", [("120bps", 1.2, "percent")]),
        ("margin up 120 basis points", [("120 basis points", 1.2, "percent")]),
        ("up 3.2 percentage points", [("3.2 percentage points", 3.2, "percent")]),
        ("up 1.5pp", [("1.5pp", 1.5, "percent")]),
        ("100–150bps", [("100", 1.0, "percent"), ("150bps", 1.5, "percent")]),
        (
            "US$5B and HK$12 and C$1.2bn",
            [
                ("US$5B", 5e9, "money"),
                ("HK$12", 12.0, "money"),
                ("C$1.2bn", 1.2e9, "money"),
            ],
        ),
        ("at 38.8x earnings", [("38.8x", 38.8, "multiple")]),
        ("at 38.8× earnings", [("38.8×", 38.8, "multiple")]),
        ("38.8 times earnings", [("38.8 times", 38.8, "multiple")]),
        ("$6.08 per share", [("$6.08", 6.08, "per_share")]),
        ("EPS of $6.08", [("$6.08", 6.08, "per_share")]),
        ("a dividend of $0.96/share", [("$0.96", 0.96, "per_share")]),
        ("164,000 employees", [("164,000", 164000.0, "number")]),
        ("1,234.5 units", [("1,234.5", 1234.5, "number")]),
        ("beta 1.24", [("1.24", 1.24, "number")]),
        ("fell -3.2% and −$1.2B", [("-3.2%", -3.2, "percent"), ("−$1.2B", -1.2e9, "money")]),
        ("10–12%", [("10", 10.0, "percent"), ("12%", 12.0, "percent")]),
        ("$10-$12", [("$10", 10.0, "money"), ("$12", 12.0, "money")]),
        ("$10 to 12 billion", [("$10", 10e9, "money"), ("12 billion", 12e9, "money")]),
        ("24.3%\nnext", [("24.3%", 24.3, "percent")]),
        ("line ends with 38.8x", [("38.8x", 38.8, "multiple")]),
        (
            "| Revenue | $391.04B |\n| Net | (45.2) |",
            [
                ("$391.04B", 391.04e9, "money"),
                ("(45.2)", -45.2, "number"),
            ],
        ),
        ("- margin 24.3%\n- P/E 29.5", [("24.3%", 24.3, "percent"), ("29.5", 29.5, "number")]),
        ("1. Revenue grew 5%", [("5%", 5.0, "percent")]),
        ("margins (24.3%) rose", [("24.3%", 24.3, "percent")]),
    ],
)
def test_finds_each_format(text: str, expected: list[tuple[str, float, str]]) -> None:
    got = found(text)
    assert [(t, k) for t, _, k in got] == [(t, k) for t, _, k in expected]
    assert [v for _, v, _ in got] == pytest.approx([v for _, v, _ in expected])


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 the company",
        "FY2024 and FY24",
        "fiscal 2025",
        "on 2025-03-01",
        "on March 1, 2025",
        "on 1 March 2025",
        "on 3/1/2025",
        "Q3 results",
        "3Q24 results",
        "Q3'24 results",
        "H1 2024",
        "fiscal 2024-25",
        "1. First point",
        "  12) Twelfth point",
        "## 2. Valuation",
        "### 2.1 Margins",
        "as noted[^1] and [2]",
        "[^1]: Source.",
        "[filing](https://sec.gov/2024/10) here",
        "see https://example.com/reports/55/9 here",
        "<b data-x=5>",
        "the 10-K and 10-Q",
        "beats the S&P 500",
        "see Table 2 and Section 3.1",
        "the #1 brand",
        "COVID-19 disruption",
        "at 10:30",
        "its 1st and 2nd segments",
        "version 1.2.3",
        "the iPhone 16 Pro and Apple Watch Series 2",
        "iOS 18 on the A17 chip",
        "under IFRS 16 and IAS 36",
        "Rule 10b5-1 plans",
        "a 510(k) clearance and 401(k) plans",
        "Item 7 and Items 1A and 7 of Form 20-F",
        "the FTSE 100, the Nasdaq-100 and the OMX Copenhagen 25",
        "at 4:30 p.m., 7:00am or 4pm",
        "in 9M 2024, 4Q24, H1 2025 and FY2024",
        "over the past 52 weeks and a 3-year plan",
        "the 53rd week",
        "Hornsea 3 and Scope 1 and 2 emissions",
        "a 1.5°C pathway",
        "the top 10 and No. 1",
        "24/7 service",
        "Dec-24 and Sept. 2024",
        "source (1) and (2)",
        "46.2%^1",
        "4K video",
        "Greater Changhua 2b&4",
    ],
)
def test_leaves_out_what_is_not_a_claim(text: str) -> None:
    assert [f for f in found(text) if f[0] != "46.2%"] == []


def test_offsets_point_at_the_figure_text() -> None:
    text = "## 2. Valuation\n\n1. Revenue of **$391.04B**, up 5.2%.\n| P/E | 38.8x |\n"
    figures = extract_figures(text)
    assert [text[f.start : f.end] for f in figures] == ["$391.04B", "5.2%", "38.8x"]


@pytest.mark.parametrize(
    ("text", "tolerance"),
    [("$391B", 0.5e9), ("$391.04B", 0.005e9), ("24.3%", 0.05), ("1,234", 0.5), ("38.80x", 0.005)],
)
def test_tolerance_is_half_the_last_place_shown(text: str, tolerance: float) -> None:
    (fig,) = extract_figures(text)
    assert fig.tolerance == pytest.approx(tolerance)


@pytest.mark.parametrize(
    ("text", "currencies"),
    [
        ("$5", {"USD"}),
        ("£5", {"GBP"}),
        ("€5", {"EUR"}),
        ("DKK 5", {"DKK"}),
        ("kr 5", {"SEK"}),
        ("HK$5", {"HKD"}),
        ("Rp 5", {"IDR"}),
        ("¥5", {"JPY"}),
    ],
)
def test_currency_is_recognised(text: str, currencies: set[str]) -> None:
    (fig,) = extract_figures(text)
    assert fig.currencies is not None and currencies <= fig.currencies


def test_only_stated_signs_are_signed() -> None:
    plain, minus, aside = extract_figures("$5B, -$5B and ($5B)")
    assert (plain.signed, minus.signed, aside.signed) == (False, True, False)
    (accounting,) = extract_figures("| Net income | ($5B) |")
    assert (accounting.signed, accounting.value) == (True, -5e9)


def test_a_huge_number_in_the_text_is_no_figure() -> None:
    assert found("a value of " + "9" * 4000 + " dollars") == []


@pytest.mark.parametrize(
    ("text", "digits"), [("400", 1), ("400.0", 4), ("0.40", 2), ("1,234", 4), ("38.8", 3)]
)
def test_counts_the_significant_digits_shown(text: str, digits: int) -> None:
    (fig,) = extract_figures(f"beta {text}")
    assert fig.digits == digits
