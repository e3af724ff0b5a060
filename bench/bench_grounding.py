"""How long the trust check takes on a 3,000-word report (six sections); target < 20 ms of CPU.

The report is analyst prose about Apple with about one figure every 10 words (denser
than analysts write): true figures in many formats, invented ones, figures stated for
the wrong metric, period or sign, figures recomputed from two facts, tables and lists.
It is checked against Apple's real fact sheet (the grounding tests' fixture) plus 18
peer facts, 80 in all, and raw data holding Apple's report inputs and a Yahoo-style
quote summary: 2,000 numeric leaves, more than a whole quote summary holds. Each run
checks all six sections against a fresh copy of the data, so the data is indexed anew
as for a new report.
"""

from __future__ import annotations

import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from vast_ai.grounding import check_figures
from vast_ai.schemas import SECTION_IDS, Fact

TARGET_MS = 20.0
WORDS_PER_SECTION = 500
RUNS = 50
RAW_LEAVES = 2000
FACTS = ROOT / "tests" / "vast_ai" / "grounding" / "fixtures" / "aapl_facts.json"

SENTENCES = [
    "Revenue reached $391.04B in fiscal 2024, up 2.0% from $383.29B a year earlier.",
    "Gross margin expanded to 46.2%, while operating margin was 31.5 percent.",
    "The shares trade at **38.8x** trailing earnings and 29.4x forward, versus 33.0x for peers.",
    "Diluted EPS of $6.08 compares with $6.13 per share in FY2023, down 0.8%.",
    "Free cash flow of USD 98.3 billion gives a 2.7% FCF yield and a 24.8% margin.",
    "Net income fell 3.4% in FY2024 to $93.7bn, and net debt was $43.0bn.",
    "Management guides to 10–12% services growth and a tax rate of 16-17%.",
    "Apple employs about 150,000 people; 40 analysts cover the stock.",
    "Risks include a 20.4% drawdown, a beta of 1.20 and the iPhone 16 cycle, per the 10-K.",
    "The operating margin of 24.0% and revenue growth of 15.7% look strong.",
    "The mean target of $252.23 implies 3.1% upside; targets range from $197 to $325.",
    "| Metric | FY2023 | FY2024 |\n|---|---:|---:|\n| Revenue ($bn) | 383.3 | 391.0 |\n"
    "| P/E | 36.1x | 38.8x |\n",
    "- ROE: 164.6%\n- ROIC: c.57%\n- Dividend yield: 0.4%\n",
]

PROSE = [
    "The ecosystem deepens customer loyalty across devices, software and services.",
    "Management continues to prioritise capital returns while investing in new categories.",
    "Competition in premium smartphones remains intense, particularly in emerging markets.",
    "Regulatory scrutiny of app store economics is a persistent overhang on the services line.",
    "Supply chain diversification reduces concentration risk but raises near-term costs.",
    "We see the installed base as the main driver of recurring revenue over the cycle.",
]

PEERS = {"MSFT": "Microsoft", "GOOGL": "Alphabet", "AMZN": "Amazon"}
PEER_METRICS = [
    ("P/E (trailing)", "multiple", 35.0),
    ("Gross margin", "percent", 0.69),
    ("Revenue growth (year on year)", "percent", 0.15),
    ("Market capitalisation", "currency", 3.1e12),
    ("EV/EBITDA", "multiple", 24.0),
    ("Net margin", "percent", 0.36),
]
# Line items of a Yahoo quote summary, for raw data of a realistic shape and size.
STATEMENT_ITEMS = [
    "totalRevenue", "costOfRevenue", "grossProfit", "researchDevelopment",
    "sellingGeneralAdministrative", "totalOperatingExpenses", "operatingIncome",
    "interestExpense", "incomeBeforeTax", "incomeTaxExpense", "netIncome", "ebit", "ebitda",
    "dilutedEPS", "basicEPS", "totalAssets", "totalLiab", "totalStockholderEquity", "cash",
    "shortTermInvestments", "netReceivables", "inventory", "longTermDebt", "shortLongTermDebt",
    "totalCashFromOperatingActivities", "capitalExpenditures", "freeCashFlow",
    "dividendsPaid", "repurchaseOfStock", "depreciation", "changeInCash",
]  # fmt: skip


def make_section(rng: random.Random) -> str:
    parts: list[str] = ["## 1. Section"]
    words = 0
    while words < WORDS_PER_SECTION:
        sentence = rng.choice(SENTENCES if rng.random() < 0.5 else PROSE)
        parts.append(sentence)
        words += len(sentence.split())
    return " ".join(parts)


def load_apple() -> tuple[list[Fact], dict[str, Any]]:
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    return [Fact.model_validate(f) for f in data["fact_sheet"]], data["raw"]


def make_facts(apple: list[Fact]) -> list[Fact]:
    """Apple's 62 facts and 18 of its peers'."""
    peers = [
        Fact(
            key=f"{ticker.lower()}_{i}",
            label=f"{ticker} {label}",
            value=value,
            display=f"{value:.2f}",
            unit=unit,  # type: ignore[arg-type]
            currency="USD" if unit == "currency" else None,
            subject=ticker,
        )
        for ticker in PEERS
        for i, (label, unit, value) in enumerate(PEER_METRICS)
    ]
    return [*apple, *peers]


def make_raw(apple_raw: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Apple's report inputs and a quote summary, RAW_LEAVES numeric leaves in all."""
    leaves = _numeric_leaves(apple_raw)
    summary: dict[str, Any] = {}
    period = 0
    while leaves < RAW_LEAVES:
        statements = summary.setdefault(f"statementHistory{period // 4}", [])
        entry: dict[str, Any] = {"endDate": {"raw": 1_700_000_000 + period, "fmt": "2024-09-28"}}
        leaves += 1
        for item in STATEMENT_ITEMS[: RAW_LEAVES - leaves]:
            value = rng.uniform(-1e9, 4e11)
            entry[item] = {"raw": value, "fmt": f"{value / 1e9:.2f}B", "longFmt": f"{value:,.0f}"}
            leaves += 1
        statements.append(entry)
        period += 1
    return {**apple_raw, "quote_summary": summary}


def _numeric_leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(_numeric_leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(_numeric_leaves(v) for v in node)
    return int(type(node) in (int, float))


def main() -> None:
    rng = random.Random(7)
    sections = [make_section(rng) for _ in SECTION_IDS]
    apple_facts, apple_raw = load_apple()
    facts, raw = make_facts(apple_facts), make_raw(apple_raw, rng)
    words = sum(len(s.split()) for s in sections)
    checked = [check_figures(s, facts, raw) for s in sections]
    figures = sum(g.found for g in checked)
    verified = sum(g.verified for g in checked)
    copies = [(copy.deepcopy(facts), copy.deepcopy(raw)) for _ in range(RUNS)]
    timings, cpu = [], []
    for run_facts, run_raw in copies:
        started, started_cpu = time.perf_counter(), time.process_time()
        for section in sections:
            check_figures(section, run_facts, run_raw)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    # The target is judged on CPU time: on a shared machine the wall time also holds
    # the time other processes took (two busy cores turned a 17 ms check into 27-38 ms).
    # The best run is the machine's speed; the median shows what a busy machine adds.
    best_cpu, best, median = min(cpu), min(timings), statistics.median(timings)
    print(
        f"grounding check: {words} words, {figures} figures ({verified} verified), "
        f"{len(facts)} facts, {_numeric_leaves(raw)} raw leaves: best CPU {best_cpu:.1f} ms "
        f"(target < {TARGET_MS:.0f} ms); wall time best {best:.1f} ms, median {median:.1f} ms"
    )
    if best_cpu >= TARGET_MS:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
