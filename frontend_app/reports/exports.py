"""A stored report as Markdown, standalone HTML, PDF (fpdf2, pure Python) and JSON.

All exports use reports.render's output and the view's tables, so the figure marks,
the sanitising and the figures are the report page's; the HTML and PDF exports carry
the page's charts (reports.charts: inline SVG, PNG in the PDF) and the marks' legend,
the Markdown export the tables. The PDF uses the DejaVu fonts vendored in
frontend_app/fonts (with their licence), because Render's Python runtime has no
system fonts.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from flask import render_template
from fpdf import FPDF
from fpdf.fonts import FontFace, TextStyle

from ..analysis.results import Table
from ..version import __version__
from .charts import RenderedChart
from .render import MARKS, inert_markdown, markdown_with_footnotes
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
_FIGURE_MARK = re.compile(r'<span class="(fig [^"]*)"[^>]*>(.*?)</span>')
_PDF_MARK = {
    mark.css: f'<font color="{mark.colour}">{{text}}</font>'
    if mark.passed
    else f'<font color="{mark.colour}"><u>{{text}}</u></font>'
    for mark in MARKS.values()
}


def _pdf_marks(section_html: str) -> str:
    """fpdf2 knows no CSS classes: show the figure marks as colours (failing ones
    underlined too), the legend's colours."""
    return _FIGURE_MARK.sub(lambda m: _PDF_MARK[m[1]].format(text=m[2]), section_html)


def _md_cell(text: str) -> str:
    return inert_markdown(text.replace("\n", " ")).replace("|", "\\|")


def _md_table(table: Table) -> list[str]:
    lines = [f"### {_md_cell(table.title)}", ""]
    head = [table.label_heading or " ", *table.columns]
    lines.append("| " + " | ".join(_md_cell(h) for h in head) + " |")
    lines.append("|" + "---|" * len(head))
    for row in table.rows:
        label = f"**{_md_cell(row.label)}**" if row.highlight else _md_cell(row.label)
        lines.append("| " + " | ".join([label, *(_md_cell(c) for c in row.cells)]) + " |")
    lines.append("")
    if table.note:
        lines += [f"*{_md_cell(table.note)}*", ""]
    if table.source:
        lines += [f"Source: {_md_cell(table.source)}", ""]
    return lines


def to_markdown(view: ReportView) -> str:
    report = view.report
    lines = [f"# {view.context.get('company_name', report.ticker)} ({report.ticker})", ""]
    if view.demo_banner:
        lines += [f"> **{view.demo_banner}**", ""]
    lines += [
        f"- Rating: {view.rating}",
        f"- Price: {view.price}",
        f"- Data: {view.context.get('source_label', '')}",
        f"- Model: {report.model} ({report.metadata.engine}"
        f"{', demo model' if report.metadata.demo_model else ''}), "
        f"{report.metadata.generation_time:.1f} s",
        f"- Figures: {view.grounding_headline} ("
        + ", ".join(f"{item.mark.legend}: {item.count}" for item in view.legend)
        + "); footnotes explain each figure that is not plainly verified",
        "",
    ]
    if report.rating.withheld:
        lines += [f"> {inert_markdown(view.withheld_reason)}", ""]
    elif report.rating.summary:
        lines += [f"> {inert_markdown(report.rating.summary)}", ""]
    if view.valuation_lines:
        lines += ["## Valuation computed by ERT", ""]
        lines += [f"- **{label}**: {_md_cell(text)}" for label, text in view.valuation_lines]
        lines.append("")
    for section in view.sections:
        lines += [f"## {section.title}", ""]
        lines += [f"*{inert_markdown(flag.message)}*" for flag in section.flags]
        status = view.notice(section)
        if status:
            lines += [f"*{inert_markdown(status)}*", ""]
        if section.replacement:
            lines += [inert_markdown(section.replacement.markdown).strip(), ""]
        if section.markdown and section.status != "failed":
            if status:
                lines += ["The model's draft, which failed the check:", ""]
            text = markdown_with_footnotes(
                section.markdown, section.grounding, label_prefix=f"{section.id}-u"
            )
            lines += [text.strip(), ""]
    for group in view.groups(None):
        if group.tables:
            lines += [f"## {group.title}", ""]
            for table in group.tables:
                lines += _md_table(table)
    if view.filings:
        lines += ["## Recent SEC filings", ""]
        for filing in view.filings:
            title = _md_cell(str(filing["title"]))
            link = f"[{title}]({filing['url']})" if filing["url"] else title
            lines.append(f"- {filing['date']} · {_md_cell(str(filing['type']))} · {link}")
        lines += ["", "Source: Yahoo Finance secFilings", ""]
    if view.notes:
        lines += ["## What could not be computed", ""]
        lines += [f"- {_md_cell(note)}" for note in view.notes]
        lines.append("")
    lines += ["---", "", f"*{DISCLAIMER}*", ""]
    return "\n".join(lines)


def to_html(view: ReportView) -> str:
    """One file that needs nothing else: the report's CSS inline (our own file, so not
    escaped), no scripts."""
    css = CSS_PATH.read_text(encoding="utf-8")
    return render_template("export.html", view=view, css=css, disclaimer=DISCLAIMER)


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


_TABLE_HEADING = FontFace(emphasis="BOLD", fill_color=(232, 237, 243))
_HIGHLIGHT = FontFace(emphasis="BOLD", fill_color=(241, 246, 251))


def _pdf_heading(pdf: FPDF, text: str, size: int = 13, room: float = 60) -> None:
    """A heading, on the next page unless `room` mm (what follows it) fit below it."""
    if pdf.will_page_break(room):  # never a heading alone at the foot of a page
        pdf.add_page()
    pdf.set_font("DejaVu", "B", size)
    pdf.set_text_color("#1d2733")
    pdf.multi_cell(0, size * 0.55, text, **_NEXT_LINE)
    pdf.set_font("DejaVu", "", 9)


def _pdf_small(pdf: FPDF, text: str, style: str = "") -> None:
    pdf.set_font("DejaVu", style, 7.5)
    pdf.set_text_color(91, 103, 117)
    pdf.multi_cell(0, 3.6, text, align="L", **_NEXT_LINE)
    pdf.set_text_color(0)


def _pdf_chart(pdf: FPDF, chart: RenderedChart) -> None:
    if pdf.will_page_break(pdf.epw * chart.aspect + 8):  # the title stays with its chart
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(0, 4.5, chart.title, **_NEXT_LINE)
    pdf.image(io.BytesIO(chart.image), w=pdf.epw)
    _pdf_small(pdf, chart.caption)
    pdf.ln(2)


def _pdf_table(pdf: FPDF, table: Table) -> None:
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(0, 4.5, table.title, **_NEXT_LINE)
    columns = 1 + len(table.columns)
    pdf.set_font("DejaVu", "", 7 if columns <= 6 else 6)
    # The row labels get twice a cell's width; wide text columns wrap.
    with pdf.table(
        col_widths=(2, *([1] * len(table.columns))),
        headings_style=_TABLE_HEADING,
        line_height=3.4,
        padding=0.8,
        text_align="LEFT",
    ) as rows:
        rows.row([table.label_heading or " ", *table.columns])
        for row in table.rows:
            rows.row([row.label, *row.cells], style=_HIGHLIGHT if row.highlight else None)
    if table.note:
        _pdf_small(pdf, table.note, "I")
    if table.source:
        _pdf_small(pdf, f"Source: {table.source}")
    pdf.ln(2)


def _pdf_legend(pdf: FPDF, view: ReportView) -> None:
    items = " · ".join(
        f'<font color="{item.mark.colour}">{"" if item.mark.passed else "<u>"}'
        f"{html.escape(item.mark.legend)}{'' if item.mark.passed else '</u>'}</font> {item.count}"
        for item in view.legend
    )
    pdf.set_font("DejaVu", "", 8)
    pdf.write_html(f"<p>Figures in the text: {items}</p>", font_family="DejaVu")


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
    if view.demo_banner:
        pdf.set_font("DejaVu", "B", 9)
        pdf.set_fill_color(255, 241, 214)
        pdf.set_text_color(107, 69, 0)
        pdf.multi_cell(0, 5, view.demo_banner, fill=True, border=1, padding=2, **_NEXT_LINE)
        pdf.set_text_color(0)
        pdf.ln(1)
    pdf.set_font("DejaVu", "", 9)
    demo = ", demo model" if report.metadata.demo_model else ""
    header = [
        f"Rating: {view.rating}    Price: {view.price}",
        f"Data: {view.context.get('source_label', '')}",
        f"Model: {report.model} ({report.metadata.engine}{demo}), "
        f"{report.metadata.generation_time:.1f} s    Figures: {view.grounding_headline}",
    ]
    if report.rating.withheld:
        header.insert(1, view.withheld_reason)
    for line in header:
        pdf.multi_cell(0, 5, line, **_NEXT_LINE)
    _pdf_legend(pdf, view)
    pdf.ln(2)
    if view.valuation_lines:
        _pdf_heading(pdf, "Valuation computed by ERT")
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=(1, 3), first_row_as_headings=False, line_height=4) as table:
            for label, text in view.valuation_lines:
                table.row([label, text])
        pdf.ln(2)
        lead = view.lead_chart("png")
        if lead is not None:
            _pdf_chart(pdf, lead)
    if view.key_metrics:
        _pdf_heading(pdf, "Key metrics")
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=(3, 2), first_row_as_headings=True) as table:
            table.row(["Key metric", "Value"])
            for fact in view.key_metrics:
                period = f" ({fact['period']})" if fact.get("period") else ""
                table.row([f"{fact.get('label', '')}{period}", str(fact.get("display", ""))])
        pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    for section in view.sections:
        status = view.notice(section)
        parts = [f"<h2>{html.escape(section.title)}</h2>"]
        parts += [f"<p><i>{html.escape(flag.message)}</i></p>" for flag in section.flags]
        if status:
            parts.append(f'<p><font color="#b42318"><i>{html.escape(status)}</i></font></p>')
        if section.replacement:
            parts.append(view.replacement_html(section))
        if section.markdown and section.status != "failed":
            if status:
                parts.append("<p><i>The model's draft, which failed the check:</i></p>")
            parts.append(_pdf_marks(view.section_html(section)))
        pdf.write_html(
            "".join(parts),
            font_family="DejaVu",
            tag_styles={"h2": _SECTION_HEADING},
            li_prefix_color="#5b6775",
        )
    for group in view.groups("png"):
        pdf.ln(2)
        first = group.charts[0] if group.charts else None
        _pdf_heading(pdf, group.title, room=60 if first is None else pdf.epw * first.aspect + 20)
        for chart in group.charts:
            _pdf_chart(pdf, chart)
        for data_table in group.tables:
            _pdf_table(pdf, data_table)
    if view.filings:
        _pdf_heading(pdf, "Recent SEC filings")
        pdf.set_font("DejaVu", "", 8)
        for filing in view.filings:
            pdf.write(4, f"{filing['date']} · {filing['type']} · ")
            pdf.set_text_color("#1f5fbf")
            pdf.write(4, str(filing["title"]), link=filing["url"] or "")
            pdf.set_text_color(0)
            pdf.ln(4)
        _pdf_small(pdf, "Source: Yahoo Finance secFilings")
    if view.notes:
        _pdf_heading(pdf, "What could not be computed")
        pdf.set_font("DejaVu", "", 8)
        for note in view.notes:
            pdf.multi_cell(0, 4, f"• {note}", align="L", **_NEXT_LINE)
    pdf.ln(4)
    pdf.set_font("DejaVu", "I", 8)
    pdf.multi_cell(0, 4, DISCLAIMER, **_NEXT_LINE)
    return bytes(pdf.output())
