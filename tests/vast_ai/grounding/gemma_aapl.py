"""Gemma 3 270M writing one section on AAPL from the replayed Yahoo recordings.

Builds the input the dashboard would send (fact sheet and raw data, from the real
market-data and metrics code), prompts the embedded llama.cpp engine the way the
report writer does, and returns its first draft. The grounding tests keep such drafts
as fixtures (see gemma_fixture.py); rebuild them with
`YF_DISABLE_CURL_CFFI=1 .venv/bin/python -m tests.vast_ai.grounding.gemma_aapl`
(yfinance must use `requests` for the recordings to be replayed).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from frontend_app.analysis.fact_sheet import build_fact_sheet, build_report_inputs
from frontend_app.analysis.metrics import compute_metrics
from frontend_app.market.yahoo import YahooSource
from tests.fakes.yahoo import replay_yahoo
from tests.vast_ai.grounding.gemma_fixture import DATA_FIXTURE, DRAFTS, FIXTURES, SECTION, Draft
from vast_ai.engines.base import ChatRequest
from vast_ai.engines.llamacpp_engine import DEFAULT_MODEL_NAME, LlamaCppEngine
from vast_ai.schemas import ReportRequest
from vast_ai.writer.prompts import build_task, chat_messages


def aapl_request() -> ReportRequest:
    """The report request for AAPL, from the recorded Yahoo answers."""
    with replay_yahoo():
        company = YahooSource(retries=0).fetch("AAPL")
    metrics = compute_metrics(company)
    company_data, financial_data, market_data = build_report_inputs(company, metrics)
    return ReportRequest(
        ticker="AAPL",
        company_data=company_data,
        financial_data=financial_data,
        market_data=market_data,
        fact_sheet=build_fact_sheet(company, metrics),
        sections=[SECTION],
    )


def raw_data(request: ReportRequest) -> dict[str, Any]:
    """The raw data the report writer checks figures against, in its shape."""
    return {
        "company_data": request.company_data,
        "financial_data": request.financial_data,
        "market_data": request.market_data or {},
    }


async def write_section(request: ReportRequest, draft: Draft) -> str:
    """Gemma's first draft of the section, prompted as the report writer prompts it."""
    engine = LlamaCppEngine(n_ctx=8192)
    task = build_task(SECTION, request, request.fact_sheet)
    chat = ChatRequest(
        model=DEFAULT_MODEL_NAME,
        messages=chat_messages(task),
        task=task,
        temperature=draft.temperature,
        seed=draft.seed,
        max_tokens=draft.max_tokens,
    )
    try:
        return "".join([chunk.text async for chunk in engine.chat(chat)]).strip()
    finally:
        await engine.close()


def main() -> None:
    request = aapl_request()
    FIXTURES.mkdir(exist_ok=True)
    data = {
        "fact_sheet": [f.model_dump(mode="json") for f in request.fact_sheet],
        "raw": raw_data(request),
    }
    DATA_FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for draft in DRAFTS:
        markdown = asyncio.run(write_section(request, draft))
        draft.path.write_text(markdown + "\n", encoding="utf-8")
        print(f"== {draft.path.name}\n{markdown}")


if __name__ == "__main__":
    main()
