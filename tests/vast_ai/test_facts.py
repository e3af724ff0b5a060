"""Facts read from yfinance `.info` data, each key with the unit Yahoo gives it in."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yfinance as yf

from tests.fakes.yahoo import YFINANCE_PANDAS_NOISE, replay_yahoo
from vast_ai.schemas import Fact
from vast_ai.writer.facts import derive_facts

pytestmark = pytest.mark.filterwarnings(YFINANCE_PANDAS_NOISE)


@cache
def info(ticker: str) -> dict[str, Any]:
    """What a curl user gets from `yf.Ticker(ticker).info`, from the recordings."""
    with replay_yahoo():
        return dict(yf.Ticker(ticker).info)


def by_key(facts: list[Fact]) -> dict[str, Fact]:
    return {fact.key: fact for fact in facts}


def shown(facts: list[Fact]) -> dict[str, str]:
    return {fact.key: fact.display for fact in facts}


def test_a_us_company_in_dollars() -> None:
    facts = by_key(derive_facts(info("AAPL")))
    assert {key: f.display for key, f in facts.items() if key in EXPECTED_AAPL} == EXPECTED_AAPL
    margin = facts["profitMargins"]
    assert (margin.unit, margin.value, margin.period) == ("percent", pytest.approx(24.295), "TTM")
    assert facts["marketCap"].unit == "currency" and facts["marketCap"].currency == "USD"
    assert facts["trailingPE"].label == "P/E (trailing)"
    # Dates, times and risk scores are not figures to quote.
    assert not {"exDividendDate", "governanceEpochDate", "auditRisk"} & set(facts)


EXPECTED_AAPL = {
    "currentPrice": "$245.55",
    "marketCap": "$3.67T",
    "totalRevenue": "$395.76B",
    "profitMargins": "24.3%",  # a fraction: 0.24295
    "dividendYield": "0.41%",  # a percent already: 0.41
    "trailingAnnualDividendYield": "0.4%",  # a fraction: 0.0041
    "debtToEquity": "1.45x",  # a percent: 145
    "trailingPE": "38.8x",
    "beta": "1.20",
    "fullTimeEmployees": "150,000",
    "trailingEps": "$6.31",
}


def test_a_uk_company_quoted_in_pence_reports_in_pounds() -> None:
    data = info("OCDO.L")
    assert (data["currency"], data["financialCurrency"]) == ("GBp", "GBP")
    facts = by_key(derive_facts(data))
    assert facts["currentPrice"].display == "309.0p" and facts["currentPrice"].currency == "GBp"
    assert facts["targetMeanPrice"].display == "441.4p"
    # Totals and per-share book figures are in pounds.
    assert facts["marketCap"].display == "£2.55B" and facts["marketCap"].currency == "GBP"
    assert facts["totalRevenue"].display == "£3.00B"
    assert facts["trailingEps"].display == "-£0.26"
    assert facts["freeCashflow"].display == "-£441.74M"


def test_a_danish_company_in_kroner() -> None:
    facts = shown(derive_facts(info("ORSTED.CO")))
    assert facts["currentPrice"] == "DKK 311.60"
    assert facts["totalRevenue"] == "DKK 71.03B"


def test_the_first_source_holding_a_key_wins_and_odd_values_are_skipped() -> None:
    facts = shown(
        derive_facts(
            {"marketCap": 3_000_000_000_000, "beta": True, "trailingPE": float("nan")},
            {"marketCap": 1, "forwardPE": 10**4000, "currentPrice": "245.5"},
        )
    )
    assert facts == {"marketCap": "$3.00T"}


def test_nothing_known_derives_nothing() -> None:
    assert derive_facts({"name": "Apple Inc."}, {}, None) == []
