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
- `chart_series(company)`: {"prices": {currency, dates, close, sma50, sma200, window:
  {start, end, current, note}}, "annual": {currency, periods, revenue, net_income},
  "margins": {periods, gross, operating, net}} (margins are fractions). A price
  history that ends more than a week before `as_of` is not current: no returns,
  volatility or moving averages from it (the reason is in `window.note`).

Everything of one report at once (valuation, estimates, peers, sources)::

    from frontend_app.analysis import build_report_data, DEFAULT_SETTINGS

    data = build_report_data(company, peer_set, DEFAULT_SETTINGS)  # ReportData
    data.facts            # list[Fact]: metrics, annual lines, estimates, valuation, peers
    data.tables           # list[Table(key, title, label_heading, columns, rows, note, source)]
    data.charts           # chart_series + football_field, sensitivity, dcf_cash_flows,
                          # estimate_revisions, eps_surprises, recommendations, comps
    data.valuation        # Valuation: dcf, sensitivity, reverse_dcf, peers, history,
                          # football_field, target (each typed or NotMeaningful(method, reason))
    data.check_rating("buy")   # RatingCheck(status: consistent | inconsistent | unchecked)
    data.report_inputs()  # (company_data, financial_data, market_data) for ReportRequest
    data.sources, data.filings, data.notes, data.to_dict()

`peer_set` is the PeerSet of frontend_app.market.PeerFinder (or a list of CompanyData,
or None); peers of another source or date than the company's are left out with the
reason. `ValuationSettings` (frontend_app.analysis.assumptions) holds the rates,
terminal growth and weights; the defaults are there, in one place.
"""

from .assumptions import DEFAULT_SETTINGS, Rate, ValuationSettings
from .charts import chart_series
from .fact_sheet import build_fact_sheet, build_report_inputs
from .metrics import METRIC_DEFINITIONS, Metric, Metrics, compute_metrics
from .report_data import ReportData, build_report_data
from .results import NotMeaningful, Table, TableRow
from .valuation import RatingCheck, check_rating

__all__ = [
    "DEFAULT_SETTINGS",
    "METRIC_DEFINITIONS",
    "Metric",
    "Metrics",
    "NotMeaningful",
    "Rate",
    "RatingCheck",
    "ReportData",
    "Table",
    "TableRow",
    "ValuationSettings",
    "build_fact_sheet",
    "build_report_data",
    "build_report_inputs",
    "chart_series",
    "check_rating",
    "compute_metrics",
]
