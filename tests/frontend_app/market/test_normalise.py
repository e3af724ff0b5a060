"""The unit conversions, each against a value Yahoo really sends."""

import math

import pandas as pd
import pytest

from frontend_app.market.normalise import (
    analysts_from_info,
    dividend_yield_fraction,
    major_currency,
    number,
    percent_to_fraction,
    prices_from_frame,
    quote_from_info,
    statement_from_frame,
    statistics_from_info,
)


def test_dividend_yield_in_percent_from_the_v7_quote_becomes_a_fraction() -> None:
    # AAPL 2025: info["dividendYield"] = 0.41 (percent), trailing yield 0.0041 (fraction)
    assert dividend_yield_fraction(0.41, 0.0040988) == pytest.approx(0.0041)


def test_dividend_yield_already_a_fraction_is_kept() -> None:
    # CRM has no v7 quote recording: quoteSummary's summaryDetail sends a fraction
    assert dividend_yield_fraction(0.0052, 0.0048) == pytest.approx(0.0052)


def test_dividend_yield_without_a_reference_is_read_as_a_percent() -> None:
    assert dividend_yield_fraction(3.4, None) == pytest.approx(0.034)
    assert dividend_yield_fraction(None, 0.01) is None


def test_debt_to_equity_percent_becomes_a_ratio() -> None:
    assert percent_to_fraction(145) == pytest.approx(1.45)
    assert statistics_from_info({"debtToEquity": 145}).debt_to_equity == pytest.approx(1.45)


def test_london_pence_become_pounds_but_market_cap_and_eps_stay() -> None:
    info = {
        "currency": "GBp",
        "regularMarketPrice": 308.8,
        "fiftyTwoWeekHigh": 541.346,
        "fiftyTwoWeekLow": 270,
        "marketCap": 2554603520,
        "targetMeanPrice": 441.38498,
        "trailingEps": -0.26,
        "financialCurrency": "GBP",
    }
    quote = quote_from_info(info)
    assert quote.currency == "GBP"
    assert quote.price == pytest.approx(3.088)
    assert quote.fifty_two_week_high == pytest.approx(5.41346)
    assert quote.market_cap == 2554603520
    assert analysts_from_info(info).target_mean == pytest.approx(4.4138498)
    assert statistics_from_info(info).trailing_eps == -0.26


def test_major_currencies_pass_through() -> None:
    assert major_currency("GBp") == ("GBP", 100)
    assert major_currency("ZAc") == ("ZAR", 100)
    assert major_currency("DKK") == ("DKK", 1)
    assert major_currency("IDR") == ("IDR", 1)


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), True, "12", None, {}])
def test_non_numbers_become_none_never_zero(raw: object) -> None:
    assert number(raw) is None


def test_statement_frame_keeps_missing_values_missing() -> None:
    frame = pd.DataFrame(
        {pd.Timestamp("2023-09-30"): [100.0, math.nan], pd.Timestamp("2024-09-30"): [110.0, 5.0]},
        index=["TotalRevenue", "InterestExpense"],
    )
    statement = statement_from_frame(frame, "income", "annual", "USD")
    assert statement is not None
    assert [p.isoformat() for p in statement.periods] == ["2024-09-30", "2023-09-30"]
    assert statement.items["TotalRevenue"] == [110.0, 100.0]
    assert statement.items["InterestExpense"] == [5.0, None]
    assert statement_from_frame(pd.DataFrame(), "income", "annual", "USD") is None


def test_price_history_in_pence_becomes_pounds() -> None:
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-03"], tz="Europe/London")
    frame = pd.DataFrame({"Close": [1200.0, math.nan]}, index=index)
    prices = prices_from_frame(frame, "GBp")
    assert prices is not None
    assert prices.currency == "GBP"
    assert prices.close == [12.0]
