"""The real fact sheets and raw data of AAPL, OCDO.L (quoted in pence, reporting in
pounds) and ORSTED.CO (DKK), frozen as JSON fixtures so that the grounding tests do not
depend on the dashboard code.

Rebuild them from the bundled snapshots with
`.venv/bin/python -m tests.vast_ai.grounding.company_facts`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from vast_ai.schemas import Fact

FIXTURES = Path(__file__).parent / "fixtures"
COMPANIES = {"AAPL": "aapl", "OCDO.L": "ocdo", "ORSTED.CO": "orsted"}


def fixture_path(ticker: str) -> Path:
    return FIXTURES / f"{COMPANIES[ticker]}_facts.json"


@cache
def _load(ticker: str) -> tuple[tuple[Fact, ...], str]:
    data = json.loads(fixture_path(ticker).read_text(encoding="utf-8"))
    return tuple(Fact.model_validate(f) for f in data["fact_sheet"]), json.dumps(data["raw"])


def company_data(ticker: str) -> tuple[list[Fact], dict[str, Any]]:
    """The fact sheet and raw data of one company (a fresh raw dict each call)."""
    facts, raw = _load(ticker)
    return list(facts), json.loads(raw)


def main() -> None:
    from frontend_app.analysis.fact_sheet import build_fact_sheet, build_report_inputs
    from frontend_app.analysis.metrics import compute_metrics
    from frontend_app.market.snapshots import SnapshotSource

    source = SnapshotSource()
    for ticker in COMPANIES:
        company = source.fetch(ticker)
        metrics = compute_metrics(company)
        company_info, financial, market = build_report_inputs(company, metrics)
        data = {
            "fact_sheet": [
                f.model_dump(mode="json", exclude_none=True)
                for f in build_fact_sheet(company, metrics)
            ],
            "raw": {
                "company_data": company_info,
                "financial_data": financial,
                "market_data": market,
            },
        }
        text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        fixture_path(ticker).write_text(text, encoding="utf-8")
        print(f"{fixture_path(ticker).name}: {len(data['fact_sheet'])} facts")


if __name__ == "__main__":
    main()
