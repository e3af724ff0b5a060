"""A stored report as Markdown, standalone HTML, PDF (fpdf2, pure Python) and JSON.

All exports use reports.render's output, so the figure marks and the sanitising are
the report page's. The PDF uses the DejaVu fonts vendored in frontend_app/fonts
(with their licence), because Render's Python runtime has no system fonts.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from flask import render_template
from fpdf import FPDF
from fpdf.fonts import TextStyle

from vast_ai.schemas import Section

from ..version import __version__
from .render import inert_markdown, markdown_with_footnotes
from .view import DISCLAIMER, ReportView

FONT_DIR = Path(__file__).parent.parent / "fonts"
_FONT_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
CSS_PATH = Path(__file__).parent.parent / "static" / "css" / "report.css"

# The figure marks reports.render adds (its own markup, titles HTML-escaped, so no ">").
_FIGURE_MARK = re.compile(r'<span class="fig fig-(verified|unverified)"[^>]*>(.*?)</span>')
_PDF_MARK = {
    "verified": '<font color="#1a7f37">{text}</font>',
    "unverified": '<font color="#b42318"><u>{text}</u></font>',
}


def _pdf_marks(section_html: str) -> str:
    """fpdf2 knows no CSS classes: show the figure marks as colours (and underlines)."""
    return _FIGURE_MARK.sub(lambda m: _PDF_MARK[m[1]].format(text=m[2]), section_html)


def _pdf_failed_section(view: ReportView, section: Section) -> str:
    """A section that is not the model's checked prose: why, the data-only text in its place,
    and the model's rejected text with its figures marked."""
    parts = [f"<p><i>{html.escape(view.notice(section))}</i></p>"]
    if section.replacement:
        parts += ["<p>From the data (no model wrote this):</p>", view.replacement_html(section)]
    if section.status == "failed_check" and section.markdown:
        parts += ["<p><i>The model's rejected text, figures marked:</i></p>"]
        parts += [_pdf_marks(view.section_html(section))]
    return "".join(parts)


def to_markdown(view: ReportView) -> str:
    report = view.report
    lines = [
        f"# {view.context.get('company_name', report.ticker)} ({report.ticker})",
        "",
        f"- Rating: {view.rating}",
        f"- Price: {view.price}",
        f"- Data: {view.context.get('source_label', '')}",
        f"- Model: {report.model} ({report.metadata.engine}), "
        f"{report.metadata.generation_time:.1f} s",
        f"- Figures: {view.grounding_headline}",
        "",
    ]
    if report.rating.summary:
        lines += [f"> {inert_markdown(report.rating.summary)}", ""]
    for section in view.sections:
        lines += [f"## {section.title}", ""]
        if section.status == "ok":
            text = markdown_with_footnotes(
                section.markdown, section.grounding, label_prefix=f"{section.id}-u"
            )
            lines += [text.strip(), ""]
        else:
            lines += [f"*{view.notice(section)}*", ""]
            if section.replacement:
                lines += ["From the data (no model wrote this):", ""]
                lines += [inert_markdown(section.replacement.markdown).strip(), ""]
            if section.status == "failed_check" and section.markdown:
                rejected = markdown_with_footnotes(
                    section.markdown, section.grounding, label_prefix=f"{section.id}-u"
                )
                quoted = "\n".join(f"> {line}" if line else ">" for line in rejected.splitlines())
                lines += ["The model's rejected text, figures marked:", "", quoted, ""]
    lines += ["---", "", f"*{DISCLAIMER}*", ""]
    return "\n".join(lines)


def to_html(view: ReportView) -> str:
    """One file that needs nothing else: the report's CSS inline (our own file, so not
    escaped), no scripts."""
    css = CSS_PATH.read_text(encoding="utf-8")
    return render_template(
        "export.html", view=view, css=css, disclaimer=DISCLAIMER, show_charts=False
    )


def to_json(view: ReportView) -> dict[str, Any]:
    """The whole stored report: the response, the exact request it was written from, context."""
    stored = view.stored
    return {
        "id": stored.id,
        "created_at": stored.created_at.isoformat(),
        "integration": stored.integration,
        "report": stored.report,
        "inputs": stored.inputs,
        "context": {k: v for k, v in stored.context.items() if k != "charts"},
        "charts": stored.context.get("charts"),
        "dashboard_version": __version__,
    }


_NEXT_LINE: dict[str, Any] = {"new_x": "LMARGIN", "new_y": "NEXT"}
_SECTION_HEADING = TextStyle(
    font_family="DejaVu", font_style="B", font_size_pt=13, color="#1d2733", t_margin=4, b_margin=0.4
)


class _ReportPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(110)
        self.cell(0, 5, f"ERT report — not investment advice — page {self.page_no()}", align="C")


def to_pdf(view: ReportView) -> bytes:
    pdf = _ReportPDF(format="A4")
    for style, name in _FONT_FILES.items():
        pdf.add_font("DejaVu", style, str(FONT_DIR / name))
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    report = view.report
    pdf.set_font("DejaVu", "B", 16)
    title = f"{view.context.get('company_name', report.ticker)} ({report.ticker})"
    pdf.multi_cell(0, 8, title, **_NEXT_LINE)
    pdf.set_font("DejaVu", "", 9)
    header = [
        f"Rating: {view.rating}    Price: {view.price}",
        f"Data: {view.context.get('source_label', '')}",
        f"Model: {report.model} ({report.metadata.engine}), "
        f"{report.metadata.generation_time:.1f} s    Figures: {view.grounding_headline}",
    ]
    for line in header:
        pdf.multi_cell(0, 5, line, **_NEXT_LINE)
    pdf.ln(2)
    if view.facts:
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=(3, 2), first_row_as_headings=True) as table:
            table.row(["Key metric", "Value"])
            for fact in view.facts:
                table.row([str(fact.get("label", "")), str(fact.get("display", ""))])
        pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    for section in view.sections:
        body = (
            _pdf_marks(view.section_html(section))
            if section.status == "ok"
            else _pdf_failed_section(view, section)
        )
        pdf.write_html(
            f"<h2>{html.escape(section.title)}</h2>{body}",
            font_family="DejaVu",
            tag_styles={"h2": _SECTION_HEADING},
            li_prefix_color="#5b6775",
        )
    pdf.ln(4)
    pdf.set_font("DejaVu", "I", 8)
    pdf.multi_cell(0, 4, DISCLAIMER, **_NEXT_LINE)
    return bytes(pdf.output())
