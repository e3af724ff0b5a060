"""The report's charts, drawn on the server with matplotlib from the series stored with
the report: SVG for the page and the HTML export (inline, so the export needs no other
file), PNG for the PDF (fpdf2 embeds PNG as is). One drawing per chart for all of them.

matplotlib's object API (`Figure`, no pyplot) keeps no global state. Drawing all of a
report's charts takes about a second of CPU, so it runs in a real thread
(`green.run_blocking`: the eventlet worker's other connections keep streaming), one
report at a time (matplotlib's own locks are green under eventlet, and must not be
contended from two real threads); `report_charts` keeps the last reports' drawings.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cachetools import LRUCache
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..analysis.formatting import money
from ..green import run_blocking

Format = Literal["svg", "png"]

rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, searchable, selectable
        "text.parse_math": False,  # "$391B" is money, not mathtext
        "svg.hashsalt": "ert",  # the same chart gives the same SVG
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
    }
)

INK, MUTED, GRID = "#1d2733", "#5b6775", "#d9dee4"
METHOD, TARGET, REFERENCE, PRICE = "#2f6f8f", "#1a7f37", "#9aa5b1", "#b42318"
SERIES = ("#2f6f8f", "#d08a1f", "#6f42c1", "#1a7f37", "#b42318")
WIDTH, HEIGHT = 7.2, 3.2  # inches: the page's column and the PDF's text width
PNG_DPI = 150


@dataclass(frozen=True)
class RenderedChart:
    key: str
    title: str
    caption: str
    image: bytes  # SVG: the <svg> element alone, to put inline; or PNG
    format: Format
    aspect: float  # height / width

    @property
    def svg(self) -> str:
        return self.image.decode("utf-8")


@dataclass(frozen=True)
class _Spec:
    key: str
    title: str
    draw: Callable[[Figure, dict[str, Any]], str]  # draws, returns the caption
    height: float = HEIGHT


def _axes(fig: Figure) -> Axes:
    ax = fig.add_subplot()
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def _money_axis(ax: Axes, currency: str | None, axis: str = "y", compact: bool = True) -> None:
    shown = FuncFormatter(lambda value, _: money(value, currency, compact=compact))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(shown)


def _present(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _football_field(fig: Figure, data: dict[str, Any]) -> str:
    ax = fig.add_subplot()
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    labels: list[str] = data["labels"]
    rows = range(len(labels))[::-1]  # the first method on top
    spread = max(data["high"] + [data["price"] or 0]) - min(data["low"] + [data["price"] or 0])
    for row, label, low, high, mid, kind in zip(
        rows, labels, data["low"], data["high"], data["mid"], data["kinds"], strict=True
    ):
        colour = REFERENCE if kind == "reference" else TARGET if "target" in label else METHOD
        width = max(high - low, spread * 0.006)  # a single value still shows
        ax.barh(row, width, left=low - (width - (high - low)) / 2, height=0.55, color=colour)
        if mid is not None:
            ax.plot([mid, mid], [row - 0.3, row + 0.3], color=INK, linewidth=1.4)
    ax.set_yticks(list(rows), labels)
    _money_axis(ax, data["currency"], axis="x", compact=False)
    price = data.get("price")
    if price is not None:
        ax.axvline(price, color=PRICE, linestyle="--", linewidth=1.3)
        shown = money(price, data["currency"], compact=False)
        ax.annotate(
            f"price {shown}",
            (price, len(labels) - 0.45),
            color=PRICE,
            fontsize=8,
            ha="center",
            annotation_clip=False,
        )
    caption = "Bars: low to high; black tick: base or mid; dashed red line: the current price."
    left_out = [f"{n['method']} ({n['reason']})" for n in data.get("not_meaningful") or []]
    if left_out:
        caption += " Not meaningful: " + "; ".join(left_out) + "."
    return caption


def _prices(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    dates = data["dates"]
    ax.plot(range(len(dates)), data["close"], color=SERIES[0], linewidth=1.2, label="close")
    for key, colour in (("sma50", SERIES[1]), ("sma200", SERIES[2])):
        if _present(data.get(key) or []):
            values = [float("nan") if v is None else v for v in data[key]]
            ax.plot(range(len(dates)), values, color=colour, linewidth=1, label=key.upper())
    ticks = sorted({0, len(dates) // 2, len(dates) - 1})
    ax.set_xticks(ticks, [dates[i] for i in ticks])
    _money_axis(ax, data["currency"], compact=False)
    ax.legend(frameon=False, loc="upper left")
    window = data.get("window") or {}
    caption = f"Daily closes {window.get('start')} to {window.get('end')}."
    if window.get("note"):
        caption += f" Not current: {window['note']}, so no returns or moving averages."
    return caption


def _grouped_bars(
    ax: Axes, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> None:
    width = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        xs = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ys = [0.0 if v is None else v for v in values]
        ax.bar(xs, ys, width=width * 0.95, color=SERIES[index], label=label)
    ax.set_xticks(range(len(groups)), groups)
    ax.axhline(0, color=MUTED, linewidth=0.6)
    ax.legend(frameon=False, fontsize=8)


def _annual(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    _grouped_bars(
        ax, data["periods"], [("Revenue", data["revenue"]), ("Net income", data["net_income"])]
    )
    _money_axis(ax, data["currency"])
    return "Fiscal years, from the income statement."


def _margins(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    for index, key in enumerate(("gross", "operating", "net")):
        values = [float("nan") if v is None else v for v in data[key]]
        ax.plot(data["periods"], values, marker="o", color=SERIES[index], label=f"{key} margin")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(frameon=False, fontsize=8)
    return "Fiscal years: profit as a share of revenue."


def _dcf_cash_flows(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    _grouped_bars(
        ax,
        data["years"],
        [("Free cash flow", data["cash_flow"]), ("Present value", data["present_value"])],
    )
    _money_axis(ax, data["currency"])
    return "The DCF's forecast years; the terminal value is in the DCF table."


def _sensitivity(fig: Figure, data: dict[str, Any]) -> str:
    ax = fig.add_subplot()
    values = [[float("nan") if v is None else v for v in row] for row in data["values"]]
    ax.imshow(values, cmap="RdYlGn", aspect="auto")
    for r, row in enumerate(data["values"]):
        for c, value in enumerate(row):
            shown = "n/m" if value is None else money(value, data["currency"], compact=False)
            ax.text(c, r, shown, ha="center", va="center", fontsize=8, color=INK)
    ax.set_xticks(range(len(data["discount_rates"])), [f"{r:.1%}" for r in data["discount_rates"]])
    ax.set_yticks(
        range(len(data["terminal_growths"])), [f"{g:.1%}" for g in data["terminal_growths"]]
    )
    ax.set_xlabel("discount rate")
    ax.set_ylabel("terminal growth")
    return "DCF value per share; the middle cell is the base case."


def _estimate_revisions(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    for index, series in enumerate(data["series"]):
        values = series["values"]
        first = next((v for v in values if v), None)
        if first is None:
            continue
        change = [float("nan") if v is None else v / first - 1 for v in values]
        ax.plot(data["labels"], change, marker="o", color=SERIES[index % 5], label=series["label"])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.axhline(0, color=MUTED, linewidth=0.6)
    ax.legend(frameon=False, fontsize=8)
    return "Change of the consensus EPS estimate of each period since 90 days ago."


def _eps_surprises(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    _grouped_bars(
        ax, data["quarters"], [("Consensus", data["estimate"]), ("Reported", data["actual"])]
    )
    _money_axis(ax, data["currency"], compact=False)
    for index, surprise in enumerate(data["surprise"]):
        if surprise is not None:
            top = max(_present([data["estimate"][index], data["actual"][index]]) or [0])
            ax.annotate(f"{surprise:+.1%}", (index, top), ha="center", va="bottom", fontsize=8)
    return "EPS per quarter: the consensus before the report, what was reported, the surprise."


def _recommendations(fig: Figure, data: dict[str, Any]) -> str:
    ax = _axes(fig)
    bottom = [0.0] * len(data["labels"])
    grades = ("strong_buy", "buy", "hold", "sell", "strong_sell")
    colours = ("#1a7f37", "#7cc48a", "#c9ced6", "#f0a07a", "#b42318")
    for grade, colour in zip(grades, colours, strict=True):
        values = [float(v or 0) for v in data[grade]]
        label = grade.replace("_", " ")
        ax.bar(data["labels"], values, bottom=bottom, color=colour, label=label, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.legend(frameon=False, fontsize=8, ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return "Number of analysts by recommendation, month by month."


def _comps(fig: Figure, data: dict[str, Any]) -> str:
    keys = [k for k in ("pe_trailing", "ev_to_ebitda", "price_to_sales") if k in data["metrics"]]
    tickers: list[str] = data["tickers"]
    for index, key in enumerate(keys, start=1):
        metric = data["metrics"][key]
        ax = fig.add_subplot(1, len(keys), index)
        values = [0.0 if v is None else v for v in metric["values"]]
        colours = [METHOD if i == 0 else REFERENCE for i in range(len(tickers))]
        ax.bar(tickers, values, color=colours)
        for x, value in enumerate(metric["values"]):
            if value is None:
                ax.annotate("n/a", (x, 0), ha="center", va="bottom", fontsize=7, color=MUTED)
        if metric.get("median") is not None:
            ax.axhline(metric["median"], color=INK, linestyle="--", linewidth=1)
        ax.set_title(metric["label"], fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}x"))
    return f"{tickers[0]} (blue) beside its peers; dashed line: the peer median."


def _ownership(fig: Figure, data: dict[str, Any]) -> str:
    parts = [p for p in ("holders", "insider_trades") if p in data]
    caption = []
    for index, part in enumerate(parts, start=1):
        ax = fig.add_subplot(1, len(parts), index)
        if part == "holders":
            labels = list(data["holders"])
            ax.barh(
                labels, list(data["holders"].values()), color=[SERIES[0], SERIES[1]][: len(labels)]
            )
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_title("Shares held", fontsize=9)
            caption.append("Share of the shares held by insiders and by institutions")
        else:
            trades = data["insider_trades"]
            ax.bar(["buys", "sales"], [trades["buys"], trades["sales"]], color=[TARGET, PRICE])
            ax.set_title(f"Insider transactions, {trades['period']}", fontsize=9)
            caption.append(f"insider purchases and sales in the {trades['period']}")
    return "; ".join(caption) + "."


# In reading order: the valuation first, then the company's history, then the analysts.
_SPECS: tuple[_Spec, ...] = (
    _Spec("football_field", "Football field: value per share by method", _football_field, 3.6),
    _Spec("sensitivity", "DCF sensitivity: discount rate x terminal growth", _sensitivity),
    _Spec("dcf_cash_flows", "DCF: forecast free cash flow", _dcf_cash_flows),
    _Spec("comps", "Multiples beside the peers", _comps),
    _Spec("prices", "Share price", _prices),
    _Spec("annual", "Revenue and net income", _annual),
    _Spec("margins", "Margins", _margins),
    _Spec("estimate_revisions", "EPS estimate revisions", _estimate_revisions),
    _Spec("eps_surprises", "EPS surprises", _eps_surprises),
    _Spec("recommendations", "Analysts' recommendations", _recommendations),
    _Spec("ownership", "Ownership and insider transactions", _ownership),
)


def _has_data(key: str, data: dict[str, Any]) -> bool:
    if not data:
        return False
    if key == "football_field":
        return bool(data.get("labels"))
    if key == "comps":
        return bool(data.get("tickers")) and any(
            _present(m["values"]) for m in (data.get("metrics") or {}).values()
        )
    if key == "ownership":
        return bool(data.get("holders") or data.get("insider_trades"))
    axis = {
        "prices": "close",
        "annual": "revenue",
        "margins": "gross",
        "dcf_cash_flows": "cash_flow",
        "sensitivity": "values",
        "estimate_revisions": "series",
        "eps_surprises": "actual",
        "recommendations": "labels",
    }[key]
    return bool(data.get(axis))


_SVG_START = re.compile(r"<svg\b")


def _draw(spec: _Spec, data: dict[str, Any], fmt: Format) -> RenderedChart:
    fig = Figure(figsize=(WIDTH, spec.height), layout="constrained")
    caption = spec.draw(fig, data)
    out = io.BytesIO()
    if fmt == "svg":
        fig.savefig(out, format="svg", metadata={"Date": None})
        svg = out.getvalue().decode("utf-8")
        start = _SVG_START.search(svg)
        image = svg[start.start() if start else 0 :].encode("utf-8")
    else:
        fig.savefig(out, format="png", dpi=PNG_DPI, metadata={"Software": None})
        image = out.getvalue()
    return RenderedChart(spec.key, spec.title, caption, image, fmt, spec.height / WIDTH)


def _draw_all(charts: dict[str, Any], fmt: Format) -> list[RenderedChart]:
    return [
        _draw(spec, charts[spec.key], fmt)
        for spec in _SPECS
        if _has_data(spec.key, charts.get(spec.key) or {})
    ]


_drawn: LRUCache[tuple[str, Format], list[RenderedChart]] = LRUCache(maxsize=16)
_lock = threading.Lock()  # the cache, and one drawing at a time


def report_charts(report_id: str, charts: dict[str, Any], fmt: Format) -> list[RenderedChart]:
    """Every chart the stored series allow, drawn once per report and format (kept for
    the last few reports)."""
    with _lock:
        cached = _drawn.get((report_id, fmt))
        if cached is None:
            cached = _drawn[(report_id, fmt)] = run_blocking(_draw_all, charts, fmt)
        return cached
