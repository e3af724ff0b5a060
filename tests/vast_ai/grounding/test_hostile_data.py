"""Hostile data never breaks the check (issue 10): numbers no float can hold, non-finite
or absurd values, deep nesting, in the raw data, the fact sheet or the text."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tests.fakes.ollama import FakeOllama, Reply, rating_json
from tests.vast_ai.conftest import AUTH, report_body
from vast_ai.grounding import check_figures
from vast_ai.schemas import Fact, ReportResponse

HUGE = 10**4000  # a 4,001-digit integer: float(HUGE) overflows


@pytest.mark.parametrize(
    "leaf",
    [HUGE, -HUGE, math.inf, -math.inf, math.nan, 1e300, True, None, "391000000000", [HUGE]],
)
def test_absurd_raw_leaves_are_skipped(leaf: Any) -> None:
    raw = {
        "financial_data": {"marketCap": leaf, "totalRevenue": leaf, "annual": [{"revenue": leaf}]},
        "company_data": {"currency": "USD"},
    }
    g = check_figures("Revenue of $391bn and a market cap of $3.7tn.", [], raw)
    assert [f.status for f in g.figures] == ["unverified", "unverified"]


def test_sane_leaves_beside_absurd_ones_still_verify() -> None:
    raw = {"financial_data": {"marketCap": HUGE, "totalRevenue": 391e9, "beta": math.nan}}
    g = check_figures("Revenue of $391bn.", [], raw)
    assert [(f.status, f.fact_key) for f in g.figures] == [
        ("verified", "raw:financial_data.totalRevenue")
    ]


def test_deeply_nested_raw_data_is_walked_without_recursion() -> None:
    raw: dict[str, Any] = {"revenue": 391e9}
    for _ in range(5000):
        raw = {"child": raw}
    g = check_figures("Revenue of $391bn.", [], raw)
    assert [f.status for f in g.figures] == ["verified"]


def test_non_finite_facts_are_skipped() -> None:
    facts = [
        Fact(key="revenue", label="Revenue", value=math.inf, display="inf", unit="currency"),
        Fact(key="margin", label="Net margin", value=math.nan, display="nan", unit="percent"),
        Fact(key="cap", label="Market cap", value=1e300, display="huge", unit="currency"),
    ]
    g = check_figures("Revenue of $391bn and a net margin of 24%.", facts)
    assert [f.status for f in g.figures] == ["unverified", "unverified"]


def test_a_number_too_long_for_a_float_in_the_text_is_no_figure() -> None:
    g = check_figures(f"Revenue of ${'9' * 4000} and a P/E of {'1' * 5000}x.", [])
    assert g.figures == []


@pytest.mark.anyio
async def test_a_4000_digit_integer_in_financial_data_gets_a_report_not_a_500(
    client: httpx.AsyncClient, ollama: FakeOllama
) -> None:
    ollama.responder = lambda body: Reply(
        text=rating_json() if body.get("format") else "Revenue reached $391.0B, a P/E of 29.5x."
    )
    body = report_body(
        sections=["valuation"], financial_data={"marketCap": HUGE, "nested": [{"x": -HUGE}]}
    )
    response = await client.post("/generate_report", headers=AUTH, json=body)
    assert response.status_code == 200
    report = ReportResponse.model_validate(response.json())
    assert report.grounding.found == report.grounding.verified == 2
