"""Rendering sections: sanitised HTML with figure marks, Markdown export, headline."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from frontend_app.reports.render import (
    grounding_headline,
    inert_markdown,
    mark_counts,
    markdown_with_footnotes,
    render_markdown_html,
)
from vast_ai.grounding import check_figures
from vast_ai.schemas import Fact, FigureCheck, ReportGrounding, SectionGrounding

FACTS = [
    Fact(
        key="revenue",
        label="Revenue (TTM)",
        value=391_035_000_000.0,
        display="$391.04B",
        unit="currency",
        currency="USD",
    ),
    Fact(key="gross_margin", label="Gross margin", value=0.462, display="46.2%", unit="percent"),
]

# Verified to its metric, by value alone or derived: all are verified marks.
VERIFIED = re.compile(r'<span class="fig fig-verified[^"]*" title="([^"]*)">([^<]*)</span>')
UNVERIFIED = re.compile(
    r'<span class="fig fig-unverified" title="not found in the data[^"]*">([^<]*)</span>'
)


class _ElementLog(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The start tags a browser would build, with their attributes."""
    log = _ElementLog()
    log.feed(html)
    return log.elements


def render(markdown: str) -> str:
    return render_markdown_html(markdown, check_figures(markdown, FACTS))


def test_marks_each_figure_by_its_status() -> None:
    html = render("Revenue was **$391.04B**; margin 46.2%, and 12.5% growth.")
    assert VERIFIED.findall(html) == [
        ("matches: Revenue (TTM) — $391.04B", "$391.04B"),
        ("matches: Gross margin — 46.2%", "46.2%"),
    ]
    assert UNVERIFIED.findall(html) == ["12.5%"]
    assert "<strong><span" in html


def test_marks_figures_in_tables_lists_and_headings() -> None:
    html = render("## Margin 46.2%\n\n- grew 9.9%\n\n| a | b |\n|---|--:|\n| x | $391.04B |\n")
    assert [t for _, t in VERIFIED.findall(html)] == ["46.2%", "$391.04B"]
    assert UNVERIFIED.findall(html) == ["9.9%"]
    assert '<td style="text-align:right"><span class="fig fig-verified fig-value-only"' in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<div onclick="alert(1)">x</div>',
        "![x](javascript:alert(1))",
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_model_markup_produces_nothing_executable(attack: str) -> None:
    elements = _elements(render(f"Revenue $391.04B. {attack} Margin 46.2%."))
    assert {tag for tag, _ in elements} <= {"p", "span"}
    for _, attrs in elements:
        assert not [name for name, _ in attrs if name.startswith("on")]
        assert not [v for name, v in attrs if name == "href" and "script:" in (v or "").lower()]


LINKS = (
    "See [the filing](https://sec.gov/x), <https://ok.example>, www.evil.example, "
    "![pixel](https://t.example/p.png), [ref][1] and ir@apple.com.\n\n[1]: https://ref.example\n"
)


def test_links_the_model_writes_are_shown_as_text_never_as_links() -> None:
    html = render_markdown_html(LINKS, None)
    assert {tag for tag, _ in _elements(html)} == {"p"}
    assert "[the filing](https://sec.gov/x)" in html and "&lt;https://ok.example&gt;" in html
    assert "[1]: https://ref.example" in html  # a link reference stays text too


def test_the_markdown_export_of_model_text_has_no_html_and_no_link_a_viewer_would_follow() -> None:
    text = inert_markdown(LINKS + "<script>alert(1)</script> <a href='https://x.example'>x</a>")
    assert "<" not in text.replace("\\<", "")  # every < is escaped: no tag, no autolink
    assert "](" not in text.replace("\\](", "") and "][" not in text.replace("\\][", "")
    for bare in ("https://sec.gov/x", "www.evil.example", "ir@apple.com", "https://ref.example"):
        assert f"`{bare}`" in text  # a code span: not autolinked by GitHub-style viewers
    # Rendered again as CommonMark, nothing but text and code comes out.
    tags = {tag for tag, _ in _elements(MarkdownIt("gfm-like").render(text))}
    assert tags <= {"p", "code"}, tags


def test_the_markdown_export_keeps_ordinary_markdown_and_footnote_labels() -> None:
    markdown = "**Revenue** grew 12.5% (see https://sec.gov/x).\n\n| a | b |\n|---|---|\n| x | y |"
    out = markdown_with_footnotes(markdown, check_figures(markdown, FACTS))
    assert out == (
        "**Revenue** grew 12.5%[^u1] (see `https://sec.gov/x`).\n\n| a | b |\n|---|---|\n"
        "| x | y |\n\n[^u1]: 12.5% — not found in the data (the data has no revenue growth)\n"
    )


@pytest.mark.parametrize(
    "forged",
    [
        '<span class="fig fig-verified" title="matches: Revenue">12.5%</span>',
        '&lt;span class="fig fig-verified"&gt;12.5%&lt;/span&gt;',
        '`<span class="fig fig-verified">12.5%</span>`',
    ],
)
def test_forged_marks_in_model_text_are_not_marks(forged: str) -> None:
    html = render(f"Growth was {forged} this year.")
    assert VERIFIED.findall(html) == []
    assert UNVERIFIED.findall(html) == ["12.5%"]


def test_placeholder_lookalikes_in_model_text_are_not_marks() -> None:
    html = render("ERT0000000000000000o0o 12.5% ERT0000000000000000c0c")
    assert VERIFIED.findall(html) == []
    assert "ERT0000000000000000o0o" in html


def test_grounding_of_other_text_marks_nothing() -> None:
    grounding = check_figures("Margin 46.2% here.", FACTS)
    html = render_markdown_html("Revenue 12.5% instead.", grounding)
    assert "fig-" not in html


def test_without_grounding_renders_plain_html() -> None:
    html = render_markdown_html("Margin **46.2%**", None)
    assert html == "<p>Margin <strong>46.2%</strong></p>\n"


def test_footnotes_mark_figures_that_are_not_plainly_verified() -> None:
    markdown = (
        "Revenue $391.04B and 12.5% growth.\n\n| x | 7.7x |\n\n"
        "The operating margin was 46.2%.\n\n| y | 46.2% |\n"
    )
    out = markdown_with_footnotes(markdown, check_figures(markdown, FACTS))
    assert out == (
        "Revenue $391.04B and 12.5%[^u1] growth.\n\n| x | 7.7x[^u2] |\n\n"
        "The operating margin was 46.2%[^u3].\n\n| y | 46.2%[^u4] |\n\n"
        "[^u1]: 12.5% — not found in the data (the data has no revenue growth)\n"
        "[^u2]: 7.7x — not found in the data (its sentence names no metric)\n"
        "[^u3]: 46.2% — 46.2% is gross margin, not the operating margin\n"
        "[^u4]: 46.2% — matches by value alone (its clause names no metric): "
        "Gross margin — 46.2%\n"
    )


def test_each_status_has_its_mark_and_explanation() -> None:
    markdown = "The operating margin was 46.2%. Revenue was $391.04B, up 12.5%."
    html = render(markdown)
    assert '<span class="fig fig-mismatch" title="46.2% is gross margin, not the operating ' in html
    assert re.search(r'fig-unverified" title="not found in the data \(.+?\)">12.5%', html)
    assert VERIFIED.findall(html) == [("matches: Revenue (TTM) — $391.04B", "$391.04B")]


def test_footnotes_leave_fully_verified_text_alone() -> None:
    markdown = "Revenue $391.04B."
    assert markdown_with_footnotes(markdown, check_figures(markdown, FACTS)) == markdown
    assert markdown_with_footnotes(markdown, None) == markdown


@pytest.mark.parametrize(
    ("found", "verified", "value_only", "headline"),
    [
        (43, 41, 0, "41 of 43 figures verified"),
        (1, 1, 0, "1 of 1 figure verified"),
        (0, 0, 0, "No figures to verify"),
        (41, 2, 2, "0 of 41 figures verified (2 more by value alone)"),
    ],
)
def test_headline(found: int, verified: int, value_only: int, headline: str) -> None:
    g = ReportGrounding(
        found=found, verified=verified, value_only=value_only, unverified=found - verified
    )
    assert grounding_headline(g) == headline


def test_a_derived_figure_is_marked_apart_with_how_it_was_recomputed() -> None:
    markdown = "Revenue grew 10.0% to $110B."
    derived = FigureCheck(
        text="10.0%",
        start=13,
        end=18,
        value=0.1,
        kind="percent",
        status="verified",
        basis="derived",
        note="growth from revenue FY2023 $100B to FY2024 $110B",
    )
    grounding = SectionGrounding(found=1, verified=1, derived=1, figures=[derived])
    html = render_markdown_html(markdown, grounding)
    assert (
        '<span class="fig fig-verified fig-derived" title="derived: growth from revenue FY2023 '
        '$100B to FY2024 $110B">10.0%</span>' in html
    )
    assert mark_counts(grounding) == {
        "verified": 0,
        "value_only": 0,
        "derived": 1,
        "mismatch": 0,
        "unverified": 0,
    }
    assert markdown_with_footnotes(markdown, grounding).endswith(
        "[^u1]: 10.0% — derived: growth from revenue FY2023 $100B to FY2024 $110B\n"
    )
