"""AAPL's DCF, sensitivity grid and reverse DCF against a hand calculation from the recordings.

The hand calculation below reads every input from the recorded Yahoo JSON (not from
the snapshot the code reads), with the rates fixed in SETTINGS, and follows the
method step by step. The approximate results in the comments are for the reader.
"""

from __future__ import annotations

from datetime import date

import pytest

from frontend_app.analysis.assumptions import Rate, ValuationSettings
from frontend_app.analysis.dcf import Dcf, ReverseDcf, dcf, dcf_setup, reverse_dcf, sensitivity
from frontend_app.market import CompanyData
from tests.fakes.yahoo import fundamentals, quote_summary, raw, recording

SETTINGS = ValuationSettings(
    risk_free_rates={"USD": Rate(0.045, "test rate", date(2025, 2, 14))},
    equity_risk_premium=Rate(0.0433, "test premium", date(2025, 1, 1)),
    terminal_growth=0.025,
    forecast_years=5,
)
SUMMARY = quote_summary("AAPL")
QUOTE = recording("quote-AAPL.json")["quoteResponse"]["result"][0]


def series(frequency: str, name: str) -> dict[str, float]:
    return fundamentals("AAPL", frequency, name)


def revenue_growth(period: str) -> float:
    trend = {t["period"]: t for t in SUMMARY["earningsTrend"]["trend"]}
    return raw(trend[period]["revenueEstimate"]["growth"])


# -- the hand calculation -------------------------------------------------------------------
# 1. Free cash flow over the last four quarters (to 2024-12-31): about $98.30B.
FCF = sum(series("quarterly", "FreeCashFlow").values())
# 2. Cost of equity by CAPM: 4.5% + beta 1.2 x 4.33% = 9.696%.
BETA = SUMMARY["defaultKeyStatistics"]["beta"]
COST_OF_EQUITY = 0.045 + BETA * 0.0433
# 3. Cost of debt: FY2024 reports no interest expense, so FY2023's over FY2023's debt:
#    3.933B / 111.088B = 3.54%.
COST_OF_DEBT = (
    series("annual", "InterestExpense")["2023-09-30"] / series("annual", "TotalDebt")["2023-09-30"]
)
# 4. Tax rate: FY2024 tax provision / pre-tax income = 29.749B / 123.485B = 24.1%.
TAX = (
    series("annual", "TaxProvision")["2024-09-30"] / series("annual", "PretaxIncome")["2024-09-30"]
)
# 5. Weights: debt of the latest quarter (96.80B) against the market cap (3.674T): 2.57%.
DEBT = series("quarterly", "TotalDebt")["2024-12-31"]
CASH = series("quarterly", "CashCashEquivalentsAndShortTermInvestments")["2024-12-31"]
DEBT_WEIGHT = DEBT / (DEBT + QUOTE["marketCap"])
# 6. WACC = 97.43% x 9.696% + 2.57% x 3.54% x (1 - 24.1%): about 9.52%.
WACC = (1 - DEBT_WEIGHT) * COST_OF_EQUITY + DEBT_WEIGHT * COST_OF_DEBT * (1 - TAX)
# 7. Year-0 cash flow: FCF + after-tax interest (3.54% x 96.80B x 75.9% = 2.60B): 100.90B.
BASE = FCF + COST_OF_DEBT * DEBT * (1 - TAX)
# 8. Growth: the analysts' revenue growth for FY2025 (4.61%) and FY2026 (8.10%), then a
#    straight line to the 2.5% terminal growth over years 3-5: 6.70%, 5.30%, 3.90%.
G1, G2, TERMINAL = revenue_growth("0y"), revenue_growth("+1y"), 0.025
GROWTH = [
    G1,
    G2,
    G2 + (TERMINAL - G2) / 4,
    G2 + 2 * (TERMINAL - G2) / 4,
    G2 + 3 * (TERMINAL - G2) / 4,
]


def hand_value(wacc: float, terminal: float, growth: list[float]) -> float:
    """9. Cash flows, their present values, the terminal value, and the value per share."""
    flows, flow = [], BASE
    for rate in growth:
        flow *= 1 + rate
        flows.append(flow)
    years = sum(f / (1 + wacc) ** t for t, f in enumerate(flows, start=1))
    terminal_value = flows[-1] * (1 + terminal) / (wacc - terminal)
    operations = years + terminal_value / (1 + wacc) ** len(flows)
    return (operations - DEBT + CASH) / QUOTE["sharesOutstanding"]


# 10. About $109.84 a share against a price of $244.60: 55% below it.
VALUE = hand_value(WACC, TERMINAL, GROWTH)


@pytest.fixture(scope="module")
def setup(aapl: CompanyData):
    result = dcf_setup(aapl, SETTINGS)
    assert not hasattr(result, "reason"), result
    return result


@pytest.fixture(scope="module")
def model(setup, aapl: CompanyData) -> Dcf:
    result = dcf(setup, aapl.quote.price)
    assert isinstance(result, Dcf)
    return result


def test_inputs_match_the_hand_calculation(model: Dcf) -> None:
    inputs = {a.key: a for a in model.assumptions}
    assert inputs["dcf_free_cash_flow"].value == pytest.approx(FCF)
    assert inputs["dcf_free_cash_flow"].period == "TTM to 2024-12-31"
    assert inputs["dcf_beta"].value == BETA
    assert inputs["dcf_cost_of_equity"].value == pytest.approx(COST_OF_EQUITY)
    assert inputs["dcf_cost_of_debt"].value == pytest.approx(COST_OF_DEBT)
    assert inputs["dcf_cost_of_debt"].period == "FY2023"
    assert inputs["dcf_tax_rate"].value == pytest.approx(TAX)
    assert inputs["dcf_tax_rate"].period == "FY2024"
    assert inputs["dcf_debt_weight"].value == pytest.approx(DEBT_WEIGHT)
    assert inputs["dcf_wacc"].value == pytest.approx(WACC)
    assert inputs["dcf_wacc"].value == pytest.approx(0.0952, abs=5e-5)
    for year, growth in enumerate(GROWTH, start=1):
        assert inputs[f"dcf_growth_year_{year}"].value == pytest.approx(growth)
    assert inputs["dcf_growth_year_1"].source == (
        "analysts' revenue growth estimate for FY2025 (39 analysts)"
    )
    assert inputs["dcf_risk_free_rate"].period == "as of 2025-02-14"
    assert inputs["dcf_equity_risk_premium"].period == "as of 2025-01-01"
    assert inputs["dcf_terminal_growth"].value == TERMINAL


def test_value_per_share_matches_the_hand_calculation(model: Dcf) -> None:
    assert model.value_per_share == pytest.approx(VALUE, rel=1e-9)
    assert model.value_per_share == pytest.approx(109.84, abs=0.01)
    assert model.upside == pytest.approx(VALUE / 244.6 - 1)
    assert [y.growth for y in model.years] == pytest.approx(GROWTH)
    assert model.years[0].cash_flow == pytest.approx(BASE * (1 + G1))
    assert model.low == pytest.approx(hand_value(WACC + 0.005, TERMINAL - 0.005, GROWTH))
    assert model.high == pytest.approx(hand_value(WACC - 0.005, TERMINAL + 0.005, GROWTH))
    facts = {f.key: f for f in model.facts()}
    assert facts["dcf_value_per_share"].display == "$109.84"
    assert facts["dcf_value_per_share"].period == "as of 2025-02-14"
    assert facts["dcf_wacc"].display == "9.5%"


def test_sensitivity_grid_matches_the_hand_calculation(setup) -> None:
    grid = sensitivity(setup)
    steps = [-0.01, -0.005, 0.0, 0.005, 0.01]
    assert grid.discount_rates == pytest.approx([WACC + s for s in steps])
    assert grid.terminal_growths == pytest.approx([TERMINAL + s for s in steps])
    for row, growth in zip(grid.values, grid.terminal_growths, strict=True):
        for value, rate in zip(row, grid.discount_rates, strict=True):
            assert value == pytest.approx(hand_value(rate, growth, GROWTH), rel=1e-9)
    assert grid.values[2][2] == pytest.approx(VALUE)
    assert grid.values[0][4] == pytest.approx(87.36, abs=0.01)  # WACC +1 point, growth -1
    table = grid.table()
    assert len(table.rows) == 5 and all(len(r.cells) == 5 for r in table.rows)
    assert table.rows[2].highlight and table.rows[2].cells[2] == "$109.84"


def test_reverse_dcf_finds_the_growth_the_price_implies(setup) -> None:
    reverse = reverse_dcf(setup, 244.6)
    assert isinstance(reverse, ReverseDcf)
    implied = reverse.implied_growth
    # By hand: the same model at a constant growth `implied` is worth the price.
    assert hand_value(WACC, TERMINAL, [implied] * 5) == pytest.approx(244.6, rel=1e-9)
    assert implied == pytest.approx(0.2573, abs=5e-5)
    assert reverse.analysts_growth == pytest.approx(sum(GROWTH) / 5)
    assert reverse.sentence == (
        "The price of $244.60 implies cash flow growing 25.7% a year for 5 years, against "
        "5.7% a year in the DCF's forecast."
    )


def test_a_price_beyond_the_searched_growth_is_not_meaningful(setup) -> None:
    result = reverse_dcf(setup, 100_000.0)
    assert result.reason == (  # type: ignore[union-attr]
        "the price implies growth above the -50.0% to 100.0% a year the model considers"
    )
    assert reverse_dcf(setup, None).reason == "no share price"  # type: ignore[union-attr]


def test_terminal_growth_never_exceeds_the_risk_free_rate(aapl: CompanyData) -> None:
    low_rates = ValuationSettings(
        risk_free_rates={"USD": Rate(0.015, "a low-rate world", date(2025, 2, 14))},
        equity_risk_premium=SETTINGS.equity_risk_premium,
    )
    setup = dcf_setup(aapl, low_rates)
    inputs = {a.key: a for a in setup.assumptions}  # type: ignore[union-attr]
    assert inputs["dcf_terminal_growth"].value == 0.015
    assert inputs["dcf_terminal_growth"].source == "the risk-free rate, below the setting 2.5%"


def test_a_currency_without_a_risk_free_rate_is_not_meaningful(aapl: CompanyData) -> None:
    settings = ValuationSettings(risk_free_rates={"EUR": Rate(0.024, "Bund")})
    result = dcf_setup(aapl, settings)
    assert result.reason == (  # type: ignore[union-attr]
        "no risk-free rate is set for USD (the dashboard's settings)"
    )
