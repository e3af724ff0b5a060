"""How a report's sections and their grounding are shown: safe HTML with each figure
marked by its status, the Markdown export with footnotes, and the headline count.

Marks (`mark_kind`): verified (to the metric its clause names), verified by value
alone, derived (recomputed from two facts), mismatch (the value is another fact's:
the mark says which) and unverified; `MARKS` gives each its CSS class, legend text and
colour, so the page, the HTML and PDF exports and their legends agree.

Model output is untrusted. Markdown is rendered with raw HTML disabled and then
sanitised with nh3; the figure marks are added only after that, at the offsets the
grounding check found, through random per-call placeholders the model text cannot
guess. So text that merely looks like a mark never becomes one. Links the model writes
are shown as the text it wrote, never as links (a model can be talked into pointing
readers anywhere); only links the page builds from the data are clickable. The Markdown
export gets the same treatment in Markdown's terms (`inert_markdown`). Imports nothing
from Flask so it can be used and tested alone.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import nh3
from markdown_it import MarkdownIt

from vast_ai.schemas import FigureCheck, ReportGrounding, SectionGrounding

UNVERIFIED_TITLE = "not found in the data"

MarkKind = Literal["verified", "value_only", "derived", "mismatch", "unverified"]


@dataclass(frozen=True)
class Mark:
    kind: MarkKind
    css: str  # the span's classes
    legend: str
    colour: str  # the PDF's colour for the figure; the CSS has the page's
    passed: bool


MARKS: dict[MarkKind, Mark] = {
    "verified": Mark("verified", "fig fig-verified", "verified", "#1a7f37", True),
    "value_only": Mark(
        "value_only", "fig fig-verified fig-value-only", "verified by value alone", "#2f6f8f", True
    ),
    "derived": Mark(
        "derived", "fig fig-verified fig-derived", "derived from two facts", "#6f42c1", True
    ),
    "mismatch": Mark(
        "mismatch", "fig fig-mismatch", "in the data as another metric", "#b35900", False
    ),
    "unverified": Mark("unverified", "fig fig-unverified", UNVERIFIED_TITLE, "#b42318", False),
}

# No link, autolink, image or link reference syntax: the model's "[text](url)" stays text.
_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable(["table", "strikethrough"])
    .disable(["link", "autolink", "image", "reference"])
)
# No links, no images (tracking pixels) and no attributes but table alignment: no
# attribute value can then hold a ">", which _TAG_OR_TEXT relies on.
_SANITISER = nh3.Cleaner(
    tags={
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    },
    clean_content_tags={"script", "style"},
    attributes={"ol": {"start"}, "th": {"style"}, "td": {"style"}},
    filter_style_properties={"text-align"},
)
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def _figures_in(markdown: str, grounding: SectionGrounding | None) -> list[FigureCheck]:
    """The grounding's figures whose offsets still point at their text, in order,
    without overlaps (a grounding of another version of the text marks nothing)."""
    if grounding is None:
        return []
    figures: list[FigureCheck] = []
    last_end = 0
    for fig in sorted(grounding.figures, key=lambda f: f.start):
        if fig.start >= last_end and markdown[fig.start : fig.end] == fig.text:
            figures.append(fig)
            last_end = fig.end
    return figures


def mark_kind(fig: FigureCheck) -> MarkKind:
    if fig.status == "verified":
        return (
            "value_only"
            if fig.basis == "value_only"
            else "derived"
            if fig.basis == "derived"
            else "verified"
        )
    return fig.status


def mark_title(fig: FigureCheck) -> str:
    """What the mark says about the figure, for a tooltip or a footnote."""
    kind = mark_kind(fig)
    shown = " — ".join(p for p in (fig.fact_label, fig.fact_display) if p) or "the data"
    if kind == "verified":
        return f"matches: {shown}"
    if kind == "value_only":
        return f"matches by value alone (its clause names no metric): {shown}"
    if kind == "derived":
        return f"derived: {fig.note}" if fig.note else f"derived from the data: {shown}"
    if kind == "mismatch":
        return fig.note or f"in the data as {shown}, not as the text states"
    return f"{UNVERIFIED_TITLE} ({fig.note})" if fig.note else UNVERIFIED_TITLE


def _open_tag(fig: FigureCheck) -> str:
    mark = MARKS[mark_kind(fig)]
    return f'<span class="{mark.css}" title="{html.escape(mark_title(fig))}">'


def _with_placeholders(markdown: str, figures: Iterable[FigureCheck], nonce: str) -> str:
    parts: list[str] = []
    cursor = 0
    for i, fig in enumerate(figures):
        parts += [markdown[cursor : fig.start], f"{nonce}o{i}o", fig.text, f"{nonce}c{i}c"]
        cursor = fig.end
    parts.append(markdown[cursor:])
    return "".join(parts)


def _marks_in(clean_html: str, figures: list[FigureCheck], nonce: str) -> str:
    """Turn placeholder pairs in text (never inside a tag) into figure spans."""
    pair = re.compile(rf"{nonce}o(\d+)o([^<]*?){nonce}c\1c")
    stray = re.compile(rf"{nonce}[oc]\d+[oc]")

    def mark(m: re.Match[str]) -> str:
        return f"{_open_tag(figures[int(m[1])])}{m[2]}</span>"

    pieces = _TAG_OR_TEXT.split(clean_html)
    for i, piece in enumerate(pieces):
        is_tag = i % 2 == 1
        pieces[i] = stray.sub("", piece if is_tag else pair.sub(mark, piece))
    return "".join(pieces)


def render_markdown_html(markdown: str, grounding: SectionGrounding | None) -> str:
    """Section Markdown as sanitised HTML, each checked figure wrapped in a mark."""
    figures = _figures_in(markdown, grounding)
    nonce = "ERT" + secrets.token_hex(8)
    clean = _SANITISER.clean(_MARKDOWN.render(_with_placeholders(markdown, figures, nonce)))
    return _marks_in(clean, figures, nonce)


# What a Markdown viewer would turn into a link or a tag: a URL, "www.", an e-mail address
# (GitHub's autolinks), and the characters that open HTML and link syntax.
_LINKABLE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>`]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE
)
_OPENERS = re.compile(r"[<\[\]]")


def inert_markdown(text: str) -> str:
    """Model-written Markdown that no viewer turns into HTML or a link: `<`, `[` and `]` are
    escaped (no tag, no link or image syntax) and bare URLs and e-mail addresses become
    code spans (no autolink). Everything else, including emphasis and tables, stays."""
    parts: list[str] = []
    cursor = 0
    for match in _LINKABLE.finditer(text):
        link = match[0].rstrip(".,;:!?)]'\"")  # a sentence's punctuation is not the link's
        parts += [_OPENERS.sub(r"\\\g<0>", text[cursor : match.start()]), f"`{link}`"]
        cursor = match.start() + len(link)
    parts.append(_OPENERS.sub(r"\\\g<0>", text[cursor:]))
    return "".join(parts)


def markdown_with_footnotes(
    markdown: str, grounding: SectionGrounding | None, label_prefix: str = "u"
) -> str:
    """The Markdown export of a section: the model's text made inert (`inert_markdown`),
    each figure that is not plainly verified (mismatch, unverified, by value alone,
    derived) with a footnote reference, and the footnotes ("[^u1]: 12.5% — not found in
    the data") after the text. A document of several sections gives each its own
    `label_prefix` so the labels stay unique."""
    unverified = [f for f in _figures_in(markdown, grounding) if mark_kind(f) != "verified"]
    # The references go in as placeholders the model cannot guess, so that escaping the
    # text leaves them alone, then become the footnote labels.
    nonce = "ERT" + secrets.token_hex(8)
    parts: list[str] = []
    labels: dict[str, str] = {}
    notes: list[str] = []
    cursor = 0
    for n, fig in enumerate(unverified, start=1):
        label = f"[^{label_prefix}{n}]"
        placeholder = f"{nonce}n{n}n"
        labels[placeholder] = label
        parts += [markdown[cursor : fig.end], placeholder]
        notes.append(f"{label}: {inert_markdown(fig.text)} — {inert_markdown(mark_title(fig))}")
        cursor = fig.end
    parts.append(markdown[cursor:])
    text = re.sub(rf"{nonce}n\d+n", lambda m: labels[m[0]], inert_markdown("".join(parts)))
    if not notes:
        return text
    return text.rstrip("\n") + "\n\n" + "\n".join(notes) + "\n"


def mark_counts(g: ReportGrounding | SectionGrounding) -> dict[MarkKind, int]:
    """How many figures carry each mark (value-only and derived counted apart)."""
    return {
        "verified": g.verified - g.value_only - g.derived,
        "value_only": g.value_only,
        "derived": g.derived,
        "mismatch": g.mismatch,
        "unverified": g.unverified,
    }


def grounding_headline(g: ReportGrounding) -> str:
    """ "41 of 43 figures verified"; a match by value alone (no metric named) is not counted
    as verified here, so the headline never reads better than the marks below it."""
    if g.found == 0:
        return "No figures to verify"
    noun = "figure" if g.found == 1 else "figures"
    headline = f"{g.verified - g.value_only} of {g.found} {noun} verified"
    return headline + (f" ({g.value_only} more by value alone)" if g.value_only else "")
