"""The fact sheet (figures the report may quote) and the report's input dicts."""

from __future__ import annotations

from typing import Any

from frontend_app.market.company import CompanyData
from vast_ai.schemas import Fact, FactUnit

from .figures import annual_series, financial_currency, fiscal_label, price_window
from .formatting import display
from .metrics import Metrics

# Income and cash-flow lines reported per fiscal year: (statement, item, fact key, label, unit).
ANNUAL_LINES: tuple[tuple[str, str, str, str, FactUnit], ...] = (
    ("income", "TotalRevenue", "revenue", "Revenue", "currency"),
    ("income", "GrossProfit", "gross_profit", "Gross profit", "currency"),
    ("income", "OperatingIncome", "operating_income", "Operating income", "currency"),
    ("income", "NetIncome", "net_income", "Net income", "currency"),
    ("income", "DilutedEPS", "eps_diluted", "Diluted EPS", "per_share"),
    ("cashflow", "OperatingCashFlow", "operating_cash_flow", "Operating cash flow", "currency"),
    ("cashflow", "FreeCashFlow", "free_cash_flow", "Free cash flow", "currency"),
)


def _annual_facts(company: CompanyData) -> list[Fact]:
    currency = financial_currency(company)
    facts = []
    for kind, item, key, label, unit in ANNUAL_LINES:
        for end, value in annual_series(company, kind, item):  # type: ignore[arg-type]
            period = fiscal_label(end)
            facts.append(
                Fact(
                    key=f"{key}_{period.lower()}",
                    label=f"{label} {period}",
                    value=value,
                    display=display(value, unit, currency),
                    unit=unit,
                    currency=currency,
                    period=period,
                )
            )
    return facts


def build_fact_sheet(company: CompanyData, metrics: Metrics) -> list[Fact]:
    """Every metric with a numeric value and every reported annual line, with stable keys.

    Words (the analysts' recommendation) are not figures: they travel in market_data.
    """
    facts = [
        Fact(
            key=m.key,
            label=m.label,
            value=m.value,
            display=m.display,
            unit=m.unit,
            currency=m.currency,
            period=m.period,
        )
        for m in metrics
        if m.value is not None
    ]
    return facts + _annual_facts(company)


def _annual_table(company: CompanyData) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for kind, item, key, _, _ in ANNUAL_LINES:
        for end, value in annual_series(company, kind, item):  # type: ignore[arg-type]
            table.setdefault(fiscal_label(end), {})[key] = value
    return dict(sorted(table.items()))


def build_report_inputs(
    company: CompanyData, metrics: Metrics
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(company_data, financial_data, market_data): JSON-safe dicts for a ReportRequest."""
    profile, quote = company.profile, company.quote
    company_data = {
        "ticker": company.ticker,
        **profile.model_dump(mode="json"),
        "currency": quote.currency,
        "financial_currency": financial_currency(company),
        "data_source": company.source,
        "source_label": company.source_label,
        "as_of": company.as_of.isoformat(),
    }
    groups: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        entry = {
            "label": metric.label,
            "value": metric.value,
            "display": metric.display,
            "period": metric.period,
        }
        if not metric.present:
            entry["unavailable"] = metric.reason
        groups.setdefault(metric.group, {})[metric.key] = entry
    market_groups = {"overview", "market", "analysts"}
    financial_data = {
        "currency": financial_currency(company),
        "annual": _annual_table(company),
        "metrics": {g: v for g, v in groups.items() if g not in market_groups},
        "gaps": [gap.model_dump(mode="json") for gap in company.gaps],
    }
    prices = company.prices
    window = price_window(company)
    market_data = {
        "quote": quote.model_dump(mode="json"),
        "metrics": {g: v for g, v in groups.items() if g in market_groups},
        "analysts": company.analysts.model_dump(mode="json"),
        "price_history": None
        if prices is None
        else {
            "currency": prices.currency,
            "start": prices.dates[0].isoformat(),
            "end": prices.dates[-1].isoformat(),
            "first_close": prices.close[0],
            "last_close": prices.close[-1],
            "trading_days": len(prices.close),
            "current": window.current,
            **({} if window.current else {"not_current": window.reason}),
        },
    }
    return company_data, financial_data, market_data
