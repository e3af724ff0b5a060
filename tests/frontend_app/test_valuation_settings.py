"""The valuation's settings (ERT_RISK_FREE_RATES ... ERT_VALUATION_WEIGHTS): read with a
clear error for each bad value, and used by the reports' valuation."""

from __future__ import annotations

import time
from datetime import date

import pytest

from frontend_app import create_app
from frontend_app.analysis.assumptions import DEFAULT_SETTINGS
from frontend_app.settings import ConfigError, Settings
from tests.frontend_app.conftest import BASE_ENV


def test_unset_the_dated_defaults_hold() -> None:
    assert Settings.from_env({}).valuation == DEFAULT_SETTINGS


def test_values_are_read_with_their_dates() -> None:
    valuation = Settings.from_env(
        {
            "ERT_RISK_FREE_RATES": "USD=4.3%, eur=0.026",
            "ERT_RISK_FREE_RATES_AS_OF": "2026-11-30",
            "ERT_EQUITY_RISK_PREMIUM": "5%",
            "ERT_EQUITY_RISK_PREMIUM_AS_OF": "2026-11-01",
            "ERT_TERMINAL_GROWTH": "0.02",
            "ERT_FORECAST_YEARS": "7",
            "ERT_VALUATION_WEIGHTS": "dcf=60,peers=40,history=0",
        }
    ).valuation
    usd = valuation.risk_free_rates["USD"]
    assert (usd.value, usd.as_of, usd.source) == (
        pytest.approx(0.043),
        date(2026, 11, 30),
        "ERT_RISK_FREE_RATES setting",
    )
    assert valuation.risk_free_rates["EUR"].value == pytest.approx(0.026)
    assert valuation.risk_free_rates["GBP"] == DEFAULT_SETTINGS.risk_free_rates["GBP"]
    assert valuation.equity_risk_premium.value == pytest.approx(0.05)
    assert valuation.equity_risk_premium.as_of == date(2026, 11, 1)
    assert valuation.terminal_growth == pytest.approx(0.02)
    assert valuation.forecast_years == 7
    assert dict(valuation.weights) == {"dcf": 60, "peers": 40, "history": 0}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        (
            {"ERT_RISK_FREE_RATES": "USD=4.3%"},
            "ERT_RISK_FREE_RATES_AS_OF and ERT_RISK_FREE_RATES go together",
        ),
        ({"ERT_RISK_FREE_RATES_AS_OF": "2026-01-01"}, "go together"),
        (
            {"ERT_RISK_FREE_RATES": "USD=4.3", "ERT_RISK_FREE_RATES_AS_OF": "2026-01-01"},
            "write 4.3% if you mean it",
        ),
        (
            {"ERT_RISK_FREE_RATES": "dollar=4%", "ERT_RISK_FREE_RATES_AS_OF": "2026-01-01"},
            "CURRENCY=RATE pairs such as USD=4.3%",
        ),
        (
            {"ERT_RISK_FREE_RATES": "USD=4.3%", "ERT_RISK_FREE_RATES_AS_OF": "soon"},
            "ERT_RISK_FREE_RATES_AS_OF must be a date such as 2025-02-14",
        ),
        (
            {"ERT_EQUITY_RISK_PREMIUM": "high", "ERT_EQUITY_RISK_PREMIUM_AS_OF": "2026-01-01"},
            "ERT_EQUITY_RISK_PREMIUM must be a rate such as 4.3% or 0.043",
        ),
        (
            {"ERT_EQUITY_RISK_PREMIUM": "5%"},
            "ERT_EQUITY_RISK_PREMIUM_AS_OF and ERT_EQUITY_RISK_PREMIUM go together",
        ),
        ({"ERT_TERMINAL_GROWTH": "12%"}, "ERT_TERMINAL_GROWTH must be between 0% and 10%"),
        ({"ERT_FORECAST_YEARS": "1"}, "ERT_FORECAST_YEARS must be at least 2"),
        ({"ERT_FORECAST_YEARS": "30"}, "ERT_FORECAST_YEARS must be at most 15"),
        ({"ERT_FORECAST_YEARS": "five"}, "ERT_FORECAST_YEARS must be a whole number"),
        (
            {"ERT_VALUATION_WEIGHTS": "dcf=1,peers=1"},
            "must give a weight to each of dcf, peers, history",
        ),
        ({"ERT_VALUATION_WEIGHTS": "dcf=0,peers=0,history=0"}, "not all 0"),
        (
            {"ERT_VALUATION_WEIGHTS": "dcf=a,peers=1,history=1"},
            "ERT_VALUATION_WEIGHTS must be numbers",
        ),
    ],
)
def test_bad_values_say_which_setting_is_wrong_and_how_to_write_it(env, words) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert words in str(caught.value)


def test_a_report_values_the_company_with_the_settings(tmp_path) -> None:
    app = create_app(
        {
            **BASE_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ert.sqlite3'}",
            "ERT_RISK_FREE_RATES": "USD=3.9%",
            "ERT_RISK_FREE_RATES_AS_OF": "2025-02-10",
            "ERT_TERMINAL_GROWTH": "2%",
            "ERT_VALUATION_WEIGHTS": "dcf=1,peers=0,history=0",
        }
    )
    try:
        http = app.test_client()
        job_id = http.post("/api/reports", json={"ticker": "AAPL"}).json["job_id"]
        deadline = time.monotonic() + 60
        while (job := http.get(f"/api/jobs/{job_id}").json)["state"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        markdown = http.get(f"/reports/{job['report_id']}.md").get_data(as_text=True)
    finally:
        app.extensions["ert"].close()
    assert "| Risk-free rate | 3.9% | as of 2025-02-10 | ERT_RISK_FREE_RATES setting |" in markdown
    assert "| Terminal growth | 2.0% |" in markdown
    # Only the DCF is weighed: the target is the DCF's range.
    assert "| Discounted cash flow | 100.0% |" in markdown
