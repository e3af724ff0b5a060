"""Figures computed in code from CompanyData: pure functions, no I/O.

How the dashboard calls it::

    from frontend_app.analysis import (
        compute_metrics, build_fact_sheet, build_report_inputs, chart_series)

    metrics = compute_metrics(company)                 # Metrics
    facts = build_fact_sheet(company, metrics)         # list[vast_ai.schemas.Fact]
    company_data, financial_data, market_data = build_report_inputs(company, metrics)
    charts = chart_series(company)                     # JSON-safe dict

- `Metrics`: every key of METRIC_DEFINITIONS, in order; `metrics["pe_trailing"]` is a
  `Metric(key, label, group, unit, value, currency, period, reason, text)` with
  `.present` and `.display` ("38.9x", "24.3%", "$391.04B", "n/a"); iterate `metrics`
  for all of them. Absent metrics have `value None` and a
  `reason` ("not meaningful: earnings per share are negative (-0.47)").
  Groups: overview, valuation, growth, profitability, balance_sheet, cash_flow,
  market, analysts. Percent-unit values are fractions (0.243 shows as "24.3%").
- `build_fact_sheet`: present metrics plus per-fiscal-year lines
  (`revenue_fy2024`, `net_income_fy2024`, `eps_diluted_fy2024`, ...).
- `chart_series(company)`: {"prices": {currency, dates, close, sma50, sma200},
  "annual": {currency, periods, revenue, net_income},
  "margins": {periods, gross, operating, net}} (margins are fractions).
"""

from .charts import chart_series
from .fact_sheet import build_fact_sheet, build_report_inputs
from .metrics import METRIC_DEFINITIONS, Metric, Metrics, compute_metrics

__all__ = [
    "METRIC_DEFINITIONS",
    "Metric",
    "Metrics",
    "build_fact_sheet",
    "build_report_inputs",
    "chart_series",
    "compute_metrics",
]
