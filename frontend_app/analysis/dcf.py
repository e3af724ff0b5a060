"""A discounted cash-flow valuation, its sensitivity grid and the reverse DCF.

    cash flow (year 0) = free cash flow (operating cash flow - capex, TTM)
                         + after-tax interest (cost of debt x debt x (1 - tax rate))
    growth, years 1-2  = the analysts' revenue growth for the coming fiscal years
    growth, years 3-N  = a straight line from the last estimate to the terminal growth
    value of operations = sum of cash flow_t / (1 + WACC)^t
                          + cash flow_N x (1 + g) / (WACC - g) / (1 + WACC)^N
    value per share    = (value of operations - debt + cash) / shares outstanding
End-of-year discounting from the date of the data; revenue growth stands for
cash-flow growth (margins held). The terminal growth is the settings' rate, never
above the risk-free rate of the currency.

Not meaningful, with the reason: banks and insurers, prices and statements in
different currencies, negative free cash flow, no analysts' revenue estimates, no
risk-free rate for the currency, a discount rate too close to the terminal growth,
or net debt above the value of the operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from frontend_app.market.company import CompanyData
from vast_ai.schemas import Fact, FactUnit

from .assumptions import MIN_RATE_SPREAD, SENSITIVITY_STEP, SENSITIVITY_STEPS, ValuationSettings
from .discount_rate import METHOD, discount_rate, total_debt
from .figures import (
    YAHOO_BALANCE_PERIOD,
    YAHOO_PERIOD,
    Figure,
    currencies_match,
    financial_currency,
    fiscal_label,
    latest_balance,
    shares_outstanding,
    ttm,
)
from .formatting import money, percent
from .results import Assumption, NotMeaningful, Result, Table, TableRow, fact

# Industries whose debt is raw material rather than financing (Yahoo's industry names).
FINANCIAL_INDUSTRY_WORDS = ("bank", "insurance", "credit services", "mortgage", "capital markets")
# A balance sheet with no current/non-current split and liabilities this close to its
# assets is a lender's, whatever the industry says.
BANK_LIKE_LEVERAGE = 0.85
# The reverse DCF looks for the growth the price implies between these bounds.
IMPLIED_GROWTH_BOUNDS = (-0.5, 1.0)


def financial_company(company: CompanyData) -> str | None:
    """Why the company is a bank or an insurer (its industry or its balance sheet), or None."""
    industry = (company.profile.industry or "").lower()
    if any(word in industry for word in FINANCIAL_INDUSTRY_WORDS):
        return f"the company is a {company.profile.industry} business"
    balance = company.statement("balance", "quarterly") or company.statement("balance", "annual")
    if balance is None:
        return None
    assets, liabilities = (
        balance.value("TotalAssets"),
        balance.value("TotalLiabilitiesNetMinorityInterest"),
    )
    unclassified = (
        balance.value("CurrentAssets") is None and balance.value("CurrentLiabilities") is None
    )
    if (
        assets
        and liabilities is not None
        and unclassified
        and liabilities / assets >= BANK_LIKE_LEVERAGE
    ):
        return (
            f"its balance sheet is a lender's: liabilities are {percent(liabilities / assets)} of "
            "assets, with no current/non-current split"
        )
    return None


@dataclass(frozen=True)
class CashFlowModel:
    """The numbers of one DCF, valued at any discount rate, terminal growth or growth path."""

    base: float
    growth: tuple[float, ...]
    discount_rate: float
    terminal_growth: float
    net_debt: float
    shares: float

    def flows(self, growth: Sequence[float] | None = None) -> list[float]:
        flows, flow = [], self.base
        for rate in self.growth if growth is None else growth:
            flow *= 1 + rate
            flows.append(flow)
        return flows

    def operations(
        self,
        discount_rate: float | None = None,
        terminal_growth: float | None = None,
        growth: Sequence[float] | None = None,
    ) -> tuple[float, float] | None:
        """(present value of the years, present value of the terminal value), or None
        when the discount rate is not above the terminal growth by MIN_RATE_SPREAD."""
        rate = self.discount_rate if discount_rate is None else discount_rate
        final = self.terminal_growth if terminal_growth is None else terminal_growth
        if rate - final < MIN_RATE_SPREAD - 1e-12:
            return None
        flows = self.flows(growth)
        years = sum(flow / (1 + rate) ** t for t, flow in enumerate(flows, start=1))
        terminal = flows[-1] * (1 + final) / (rate - final) / (1 + rate) ** len(flows)
        return years, terminal

    def per_share(
        self,
        discount_rate: float | None = None,
        terminal_growth: float | None = None,
        growth: Sequence[float] | None = None,
    ) -> float | None:
        value = self.operations(discount_rate, terminal_growth, growth)
        if value is None:
            return None
        return (sum(value) - self.net_debt) / self.shares


class DcfYear(Result):
    year: int
    growth: float
    cash_flow: float
    present_value: float


class Dcf(Result):
    currency: str
    price: float | None
    assumptions: list[Assumption]
    years: list[DcfYear]
    terminal_value: float
    terminal_present_value: float
    enterprise_value: float
    equity_value: float
    value_per_share: float
    upside: float | None
    terminal_growth: float
    # The value with the discount rate and terminal growth each one step either way.
    low: float
    high: float
    period: str

    def facts(self) -> list[Fact]:
        def result(key: str, label: str, value: float, unit: FactUnit) -> Fact:
            return fact(key, label, value, unit, self.period, self.currency)

        facts = [assumption.fact() for assumption in self.assumptions]
        facts += [
            result(
                "dcf_enterprise_value", "DCF value of operations", self.enterprise_value, "currency"
            ),
            result("dcf_equity_value", "DCF equity value", self.equity_value, "currency"),
            result("dcf_value_per_share", "DCF value per share", self.value_per_share, "per_share"),
            result("dcf_value_low", "DCF value per share (low case)", self.low, "per_share"),
            result("dcf_value_high", "DCF value per share (high case)", self.high, "per_share"),
        ]
        if self.upside is not None:
            facts.append(
                fact("dcf_upside", "DCF upside to the price", self.upside, "percent", self.period)
            )
        return facts

    def table(self) -> Table:
        rows = [
            TableRow(
                label=f"Year {year.year}",
                cells=[
                    percent(year.growth),
                    money(year.cash_flow, self.currency),
                    money(year.present_value, self.currency),
                ],
            )
            for year in self.years
        ]
        rows.append(
            TableRow(
                label="Terminal value",
                cells=[
                    percent(self.terminal_growth),
                    money(self.terminal_value, self.currency),
                    money(self.terminal_present_value, self.currency),
                ],
            )
        )
        return Table(
            key="dcf",
            title="Discounted cash flow",
            label_heading="Year",
            columns=["Growth", "Cash flow", "Present value"],
            rows=rows,
            note=(
                f"Value per share {money(self.value_per_share, self.currency, compact=False)}"
                f" ({money(self.low, self.currency, compact=False)} to "
                f"{money(self.high, self.currency, compact=False)} with the discount rate and "
                f"terminal growth {percent(SENSITIVITY_STEP)} either way)"
            ),
            source="the assumptions in 'DCF assumptions'",
        )

    def assumptions_table(self) -> Table:
        """Every input of the DCF with its period or date ("ERT default" where undated)
        and where it comes from."""
        return Table(
            key="dcf_assumptions",
            title="DCF assumptions",
            label_heading="Assumption",
            columns=["Value", "Period or date", "Source"],
            rows=[
                TableRow(label=a.label, cells=[a.display, a.period, a.source])
                for a in self.assumptions
            ],
        )


class SensitivityGrid(Result):
    """Value per share by discount rate (columns) and terminal growth (rows); None: n/m."""

    currency: str
    discount_rates: list[float]
    terminal_growths: list[float]
    values: list[list[float | None]]

    def table(self) -> Table:
        return Table(
            key="dcf_sensitivity",
            title="DCF value per share: discount rate x terminal growth",
            label_heading="Terminal growth / discount rate",
            columns=[percent(rate) for rate in self.discount_rates],
            rows=[
                TableRow(
                    label=percent(growth),
                    cells=[
                        "n/m" if value is None else money(value, self.currency, compact=False)
                        for value in row
                    ],
                    highlight=index == len(self.terminal_growths) // 2,
                )
                for index, (growth, row) in enumerate(
                    zip(self.terminal_growths, self.values, strict=True)
                )
            ],
            note=(
                "n/m: the discount rate is not above the terminal growth by "
                f"{percent(MIN_RATE_SPREAD)}; the middle row and column are the base case"
            ),
        )


class ReverseDcf(Result):
    """The constant growth of the forecast years at which the DCF equals the price."""

    implied_growth: float
    analysts_growth: float
    years: int
    price: float
    currency: str
    period: str

    def facts(self) -> list[Fact]:
        return [
            fact(
                "reverse_dcf_implied_growth",
                f"Cash-flow growth a year the price implies ({self.years} years)",
                self.implied_growth,
                "percent",
                self.period,
            ),
            fact(
                "reverse_dcf_forecast_growth",
                f"Average cash-flow growth of the DCF forecast ({self.years} years)",
                self.analysts_growth,
                "percent",
                self.period,
            ),
        ]

    @property
    def sentence(self) -> str:
        return (
            f"The price of {money(self.price, self.currency, compact=False)} implies cash flow "
            f"growing {percent(self.implied_growth)} a year for {self.years} years, against "
            f"{percent(self.analysts_growth)} a year in the DCF's forecast."
        )


@dataclass(frozen=True)
class DcfSetup:
    """What the DCF, its grid and the reverse DCF share."""

    model: CashFlowModel
    currency: str
    assumptions: list[Assumption]
    period: str


def _growth_path(
    company: CompanyData, years: int, terminal: float
) -> tuple[list[float], list[str]] | None:
    """Growth for each forecast year and where it comes from; None with no estimate."""
    estimates = [
        e for e in company.research.estimates if e.is_year and e.revenue_growth is not None
    ]
    if not estimates:
        return None
    known = [e.revenue_growth for e in estimates[:years] if e.revenue_growth is not None]
    sources = [
        f"analysts' revenue growth estimate for "
        f"{'the fiscal year' if e.end is None else fiscal_label(e.end)} "
        f"({e.revenue_analysts or 0} analyst{'' if e.revenue_analysts == 1 else 's'})"
        for e in estimates[: len(known)]
    ]
    last, count = known[-1], len(known)
    for year in range(count + 1, years + 1):
        known.append(last + (terminal - last) * (year - count) / (years - count + 1))
        sources.append(f"straight line from {percent(last)} to the terminal {percent(terminal)}")
    return known, sources


def _from_statements_or_yahoo(
    reported: Figure | None, source: str, yahoo: float | None, yahoo_period: str
) -> tuple[Figure | None, str]:
    """The statements' figure, else Yahoo's own (key statistics), with its source."""
    if reported is not None:
        return reported, source
    if yahoo is not None:
        return Figure(yahoo, yahoo_period), "Yahoo Finance key statistics"
    return None, "none reported"


def dcf_setup(company: CompanyData, settings: ValuationSettings) -> DcfSetup | NotMeaningful:
    """Every input of the DCF with its source, or why a DCF does not fit the company."""

    def no(reason: str) -> NotMeaningful:
        return NotMeaningful(method=METHOD, reason=reason)

    financial = financial_company(company)
    if financial:
        return no(
            f"not meaningful for banks and insurers ({financial}): their debt is what they "
            "trade in, so free cash flow does not measure what shareholders earn"
        )
    currency = financial_currency(company)
    if not currencies_match(company):
        return no(f"prices are in {company.quote.currency} but financials in {currency}")
    stats = company.statistics
    fcf, fcf_source = _from_statements_or_yahoo(
        ttm(company, "cashflow", "FreeCashFlow"),
        "cash-flow statement: operating cash flow - capital expenditure",
        stats.free_cash_flow_ttm,
        YAHOO_PERIOD,
    )
    if fcf is None:
        return no("no free cash flow reported")
    if fcf.value <= 0:
        return no(f"free cash flow is negative ({fcf.period}: {money(fcf.value, currency)})")
    rate = discount_rate(company, currency, settings)
    if isinstance(rate, NotMeaningful):
        return rate
    risk_free = rate.risk_free_rate.value
    terminal = min(settings.terminal_growth, risk_free)
    path = _growth_path(company, settings.forecast_years, terminal)
    if path is None:
        return no("no analysts' revenue estimates for the coming fiscal years")
    if rate.wacc.value - terminal < MIN_RATE_SPREAD:
        return no(
            f"the discount rate {rate.wacc.display} is within {percent(MIN_RATE_SPREAD)} of the "
            f"terminal growth {percent(terminal)}"
        )
    shares = shares_outstanding(company)
    if not shares:
        return no("no share count")
    debt, debt_source = total_debt(company)
    cash, cash_source = _from_statements_or_yahoo(
        latest_balance(company, "CashCashEquivalentsAndShortTermInvestments"),
        "balance sheet",
        stats.total_cash,
        YAHOO_BALANCE_PERIOD,
    )
    debt_value = 0.0 if debt is None else debt.value
    cash_value = 0.0 if cash is None else cash.value
    interest = rate.cost_of_debt.value * debt_value * (1 - rate.tax_rate.value)
    growth, sources = path
    as_of = f"as of {company.as_of.isoformat()}"
    assumptions = [
        Assumption(
            key="dcf_free_cash_flow",
            label="Free cash flow (base year)",
            value=fcf.value,
            unit="currency",
            currency=currency,
            period=fcf.period,
            source=fcf_source,
        ),
        Assumption(
            key="dcf_after_tax_interest",
            label="After-tax interest added back",
            value=interest,
            unit="currency",
            currency=currency,
            period=fcf.period,
            source="cost of debt x total debt x (1 - tax rate)",
        ),
        *[
            Assumption(
                key=f"dcf_growth_year_{year}",
                label=f"Cash-flow growth, forecast year {year}",
                value=value,
                unit="percent",
                period=f"forecast year {year}",
                source=source,
            )
            for year, (value, source) in enumerate(zip(growth, sources, strict=True), start=1)
        ],
        Assumption(
            key="dcf_terminal_growth",
            label="Terminal growth",
            value=terminal,
            unit="percent",
            period="after the forecast years",
            source=(
                "ERT setting"
                if terminal == settings.terminal_growth
                else f"the risk-free rate, below the setting {percent(settings.terminal_growth)}"
            ),
        ),
        *rate.assumptions,
        Assumption(
            key="dcf_total_debt",
            label="Total debt",
            value=debt_value,
            unit="currency",
            currency=currency,
            period="none reported" if debt is None else debt.period,
            source=debt_source,
        ),
        Assumption(
            key="dcf_cash",
            label="Cash and short-term investments",
            value=cash_value,
            unit="currency",
            currency=currency,
            period="none reported" if cash is None else cash.period,
            source=cash_source,
        ),
        Assumption(
            key="dcf_shares",
            label="Shares outstanding",
            value=shares,
            unit="count",
            period=as_of,
            source="Yahoo Finance quote",
        ),
    ]
    model = CashFlowModel(
        base=fcf.value + interest,
        growth=tuple(growth),
        discount_rate=rate.wacc.value,
        terminal_growth=terminal,
        net_debt=debt_value - cash_value,
        shares=shares,
    )
    return DcfSetup(model=model, currency=currency, assumptions=assumptions, period=as_of)


def dcf(setup: DcfSetup, price: float | None) -> Dcf | NotMeaningful:
    model = setup.model
    operations = model.operations()
    assert operations is not None  # dcf_setup checked the spread
    years_value, terminal_present = operations
    enterprise = years_value + terminal_present
    equity = enterprise - model.net_debt
    if equity <= 0:
        return NotMeaningful(
            method=METHOD,
            reason=(
                f"net debt {money(model.net_debt, setup.currency)} exceeds the value of the "
                f"operations {money(enterprise, setup.currency)}"
            ),
        )
    step = SENSITIVITY_STEP
    low = model.per_share(model.discount_rate + step, model.terminal_growth - step)
    high = model.per_share(model.discount_rate - step, model.terminal_growth + step)
    flows = model.flows()
    rate = model.discount_rate
    per_share = equity / model.shares
    return Dcf(
        currency=setup.currency,
        price=price,
        assumptions=setup.assumptions,
        years=[
            DcfYear(year=t, growth=g, cash_flow=flow, present_value=flow / (1 + rate) ** t)
            for t, (g, flow) in enumerate(zip(model.growth, flows, strict=True), start=1)
        ],
        terminal_value=flows[-1] * (1 + model.terminal_growth) / (rate - model.terminal_growth),
        terminal_present_value=terminal_present,
        enterprise_value=enterprise,
        equity_value=equity,
        value_per_share=per_share,
        upside=None if not price else per_share / price - 1,
        terminal_growth=model.terminal_growth,
        low=per_share if low is None else min(low, per_share),
        high=per_share if high is None else max(high, per_share),
        period=setup.period,
    )


def sensitivity(setup: DcfSetup) -> SensitivityGrid:
    model = setup.model
    offsets = [SENSITIVITY_STEP * k for k in range(-SENSITIVITY_STEPS, SENSITIVITY_STEPS + 1)]
    rates = [model.discount_rate + offset for offset in offsets]
    growths = [model.terminal_growth + offset for offset in offsets]
    return SensitivityGrid(
        currency=setup.currency,
        discount_rates=rates,
        terminal_growths=growths,
        values=[[model.per_share(rate, growth) for rate in rates] for growth in growths],
    )


def reverse_dcf(setup: DcfSetup, price: float | None) -> ReverseDcf | NotMeaningful:
    """The growth the price implies, found by bisection (the value rises with growth)."""
    method = "Reverse DCF"
    if not price or price <= 0:
        return NotMeaningful(method=method, reason="no share price")
    model = setup.model
    years = len(model.growth)

    def gap(growth: float) -> float:
        value = model.per_share(growth=[growth] * years)
        assert value is not None
        return value - price

    low, high = IMPLIED_GROWTH_BOUNDS
    if gap(low) > 0 or gap(high) < 0:
        side = "below" if gap(low) > 0 else "above"
        return NotMeaningful(
            method=method,
            reason=(
                f"the price implies growth {side} the {percent(low)} to {percent(high)} a year "
                "the model considers"
            ),
        )
    for _ in range(60):
        middle = (low + high) / 2
        if gap(middle) < 0:
            low = middle
        else:
            high = middle
    return ReverseDcf(
        implied_growth=(low + high) / 2,
        analysts_growth=sum(model.growth) / years,
        years=years,
        price=price,
        currency=setup.currency,
        period=setup.period,
    )
