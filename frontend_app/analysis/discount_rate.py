"""The discount rate of a DCF: CAPM cost of equity, cost of debt, tax rate, WACC.

    cost of equity = risk-free rate + beta x equity risk premium           (CAPM)
    cost of debt   = interest expense / total debt, latest fiscal year reporting both
    tax rate       = tax provision / pre-tax income, latest fiscal year with a sane one
    WACC           = E/(D+E) x cost of equity + D/(D+E) x cost of debt x (1 - tax rate)
with E the market capitalisation and D the total debt of the latest balance sheet.
Each input is an Assumption that names its source and period; a default is named as one.
"""

from __future__ import annotations

from frontend_app.market.company import CompanyData

from .assumptions import (
    DEFAULT_BETA,
    DEFAULT_CREDIT_SPREAD,
    DEFAULT_TAX_RATE,
    MAX_TAX_RATE,
    Rate,
    ValuationSettings,
)
from .figures import YAHOO_BALANCE_PERIOD, Figure, annual_series, fiscal_label, latest_balance
from .formatting import money, percent
from .results import Assumption, NotMeaningful, Result

METHOD = "Discounted cash flow"


class DiscountRate(Result):
    risk_free_rate: Assumption
    equity_risk_premium: Assumption
    beta: Assumption
    cost_of_equity: Assumption
    cost_of_debt: Assumption
    tax_rate: Assumption
    debt_weight: Assumption
    wacc: Assumption

    @property
    def assumptions(self) -> list[Assumption]:
        return [
            self.risk_free_rate,
            self.equity_risk_premium,
            self.beta,
            self.cost_of_equity,
            self.cost_of_debt,
            self.tax_rate,
            self.debt_weight,
            self.wacc,
        ]


def _rate(key: str, label: str, rate: Rate) -> Assumption:
    return Assumption(
        key=key,
        label=label,
        value=rate.value,
        unit="percent",
        period=rate.period,
        source=rate.source,
    )


def _beta(company: CompanyData) -> Assumption:
    beta = company.statistics.beta
    period = f"as of {company.as_of.isoformat()}"
    if beta is None or beta <= 0:
        why = "Yahoo Finance has no beta" if beta is None else f"Yahoo's beta {beta:g} is unusable"
        return Assumption(
            key="dcf_beta",
            label="Beta",
            value=DEFAULT_BETA,
            unit="number",
            period="ERT default",
            source=f"the market's beta, assumed: {why}",
        )
    return Assumption(
        key="dcf_beta",
        label="Beta",
        value=beta,
        unit="number",
        period=period,
        source="Yahoo Finance beta (5 years of monthly returns)",
    )


def tax_rate(company: CompanyData) -> Assumption:
    """The latest fiscal year's effective rate that is a rate, else the default."""
    pretax = dict(annual_series(company, "income", "PretaxIncome"))
    for end, tax in reversed(annual_series(company, "income", "TaxProvision")):
        before = pretax.get(end)
        if before is None or before <= 0:
            continue
        rate = tax / before
        if 0 <= rate <= MAX_TAX_RATE:
            currency = company.statistics.financial_currency
            return Assumption(
                key="dcf_tax_rate",
                label="Tax rate",
                value=rate,
                unit="percent",
                period=fiscal_label(end),
                source=(
                    f"income statement {fiscal_label(end)}: tax provision {money(tax, currency)} / "
                    f"pre-tax income {money(before, currency)}"
                ),
            )
    return Assumption(
        key="dcf_tax_rate",
        label="Tax rate",
        value=DEFAULT_TAX_RATE,
        unit="percent",
        period="ERT default",
        source=(
            f"default: no fiscal year with positive pre-tax income and a tax rate "
            f"between 0% and {percent(MAX_TAX_RATE)}"
        ),
    )


def _cost_of_debt(company: CompanyData, risk_free: Rate) -> Assumption:
    debts = dict(annual_series(company, "balance", "TotalDebt"))
    for end, interest in reversed(annual_series(company, "income", "InterestExpense")):
        debt = debts.get(end)
        if interest > 0 and debt is not None and debt > 0:
            currency = company.statistics.financial_currency
            return Assumption(
                key="dcf_cost_of_debt",
                label="Cost of debt (pre-tax)",
                value=interest / debt,
                unit="percent",
                period=fiscal_label(end),
                source=(
                    f"{fiscal_label(end)} interest expense {money(interest, currency)} / "
                    f"total debt {money(debt, currency)}"
                ),
            )
    return Assumption(
        key="dcf_cost_of_debt",
        label="Cost of debt (pre-tax)",
        value=risk_free.value + DEFAULT_CREDIT_SPREAD,
        unit="percent",
        period="ERT default",
        source=(
            f"default: risk-free rate + {percent(DEFAULT_CREDIT_SPREAD)}; no fiscal year "
            "reports both interest expense and debt"
        ),
    )


def total_debt(company: CompanyData) -> tuple[Figure | None, str]:
    """The latest balance sheet's total debt (else Yahoo's figure) and its source."""
    reported = latest_balance(company, "TotalDebt")
    if reported is not None:
        return reported, "balance sheet"
    yahoo = company.statistics.total_debt
    if yahoo is None:
        return None, "no debt reported"
    return Figure(yahoo, YAHOO_BALANCE_PERIOD), "Yahoo Finance key statistics"


def discount_rate(
    company: CompanyData, currency: str, settings: ValuationSettings
) -> DiscountRate | NotMeaningful:
    """The WACC for cash flows in `currency`, or why there is none."""
    risk_free = settings.risk_free_rates.get(currency)
    if risk_free is None:
        return NotMeaningful(
            method=METHOD,
            reason=f"no risk-free rate is set for {currency} (the dashboard's settings)",
        )
    cap = company.quote.market_cap
    if cap is None or cap <= 0:
        return NotMeaningful(method=METHOD, reason="no market capitalisation to weigh equity")
    rf = _rate("dcf_risk_free_rate", "Risk-free rate", risk_free)
    erp = _rate("dcf_equity_risk_premium", "Equity risk premium", settings.equity_risk_premium)
    beta = _beta(company)
    cost_of_equity = Assumption(
        key="dcf_cost_of_equity",
        label="Cost of equity (CAPM)",
        value=rf.value + beta.value * erp.value,
        unit="percent",
        period=rf.period,
        source=f"risk-free rate {rf.display} + beta {beta.display} x premium {erp.display}",
    )
    debt_figure, _ = total_debt(company)
    debt = 0.0 if debt_figure is None else max(debt_figure.value, 0.0)
    cost_of_debt = _cost_of_debt(company, risk_free)
    tax = tax_rate(company)
    weight = debt / (debt + cap)
    wacc = (1 - weight) * cost_of_equity.value + weight * cost_of_debt.value * (1 - tax.value)
    debt_period = "no debt reported" if debt_figure is None else debt_figure.period
    return DiscountRate(
        risk_free_rate=rf,
        equity_risk_premium=erp,
        beta=beta,
        cost_of_equity=cost_of_equity,
        cost_of_debt=cost_of_debt,
        tax_rate=tax,
        debt_weight=Assumption(
            key="dcf_debt_weight",
            label="Debt weight D/(D+E)",
            value=weight,
            unit="percent",
            period=debt_period,
            source=(
                f"total debt {money(debt, currency)} ({debt_period}) and market "
                f"capitalisation {money(cap, currency)} (as of {company.as_of.isoformat()})"
            ),
        ),
        wacc=Assumption(
            key="dcf_wacc",
            label="Discount rate (WACC)",
            value=wacc,
            unit="percent",
            period=f"as of {company.as_of.isoformat()}",
            source="weighted cost of equity and after-tax cost of debt",
        ),
    )
