"""The real fact sheets and raw data of AAPL, OCDO.L (quoted in pence, reporting in
pounds) and ORSTED.CO (DKK), frozen as JSON fixtures so that the grounding tests do not
depend on the dashboard code. "AAPL report" is AAPL's whole report data as the dashboard
sends it (valuation, estimates, ownership, bundled-sector peers), for the sentences
about those facts.

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
COMPANIES = {"AAPL": "aapl", "OCDO.L": "ocdo", "ORSTED.CO": "orsted", "AAPL report": "aapl_report"}


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


def _write(name: str, facts: list[Fact], inputs: tuple[dict[str, Any], ...]) -> None:
    company_info, financial, market = inputs
    data = {
        "fact_sheet": [f.model_dump(mode="json", exclude_none=True) for f in facts],
        "raw": {"company_data": company_info, "financial_data": financial, "market_data": market},
    }
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    fixture_path(name).write_text(text, encoding="utf-8")
    print(f"{fixture_path(name).name}: {len(facts)} facts")


def main() -> None:
    from frontend_app.analysis import build_report_data
    from frontend_app.analysis.fact_sheet import build_fact_sheet, build_report_inputs
    from frontend_app.analysis.metrics import compute_metrics
    from frontend_app.market import PeerSet
    from frontend_app.market.snapshots import SnapshotSource

    source = SnapshotSource()
    for name in COMPANIES:
        ticker = name.removesuffix(" report")
        company = source.fetch(ticker)
        if name == ticker:
            metrics = compute_metrics(company)
            inputs = build_report_inputs(company, metrics)
            _write(name, build_fact_sheet(company, metrics), inputs)
            continue
        sector = source.same_sector(company.profile.sector, ticker)
        peers = PeerSet(
            selection="sector" if sector else "none",
            note="bundled sector peers",
            companies=[source.fetch(t) for t in sector],
        )
        report = build_report_data(company, peers)
        _write(name, report.facts, report.report_inputs())


if __name__ == "__main__":
    main()
