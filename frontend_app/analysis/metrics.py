"""The metrics of a company, computed in code from CompanyData: pure functions, no I/O.

Every metric in METRIC_DEFINITIONS is always present in the result, either with a
value (and its period and currency) or without one and with the reason: a
loss-maker's P/E is absent ("earnings are negative"), never a negative multiple.
Ratios that mix prices with statement figures need both in one currency; when they
differ (an ADR trading in USD for a company reporting in CNY) they are absent with
that reason: ERT does not convert currencies, and Yahoo's own ratios for such
companies mix the two (BABA's price/sales is market cap in USD over revenue in CNY).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from frontend_app.market.company import CompanyData
from vast_ai.schemas import FactUnit

from .figures import (
    Figure,
    annual_at,
    annual_series,
    core_figures,
    currencies_match,
    currency_mismatch,
    fiscal_label,
    latest_annual,
    latest_balance,
    price_window,
)
from .formatting import display

# key: (label, group, unit)
METRIC_DEFINITIONS: dict[str, tuple[str, str, FactUnit]] = {
    "price": ("Share price", "overview", "per_share"),
    "market_cap": ("Market capitalisation", "overview", "currency"),
    "revenue_ttm": ("Revenue (trailing twelve months)", "overview", "currency"),
    "net_income_ttm": ("Net income (trailing twelve months)", "overview", "currency"),
    "eps_ttm": ("Diluted EPS (trailing twelve months)", "overview", "per_share"),
    "pe_trailing": ("P/E (trailing)", "valuation", "multiple"),
    "pe_forward": ("P/E (forward)", "valuation", "multiple"),
    "peg": ("PEG ratio", "valuation", "multiple"),
    "price_to_sales": ("Price/sales", "valuation", "multiple"),
    "price_to_book": ("Price/book", "valuation", "multiple"),
    "enterprise_value": ("Enterprise value", "valuation", "currency"),
    "ev_to_ebitda": ("EV/EBITDA", "valuation", "multiple"),
    "ev_to_revenue": ("EV/revenue", "valuation", "multiple"),
    "fcf_yield": ("Free cash flow yield", "valuation", "percent"),
    "dividend_yield": ("Dividend yield", "valuation", "percent"),
    "payout_ratio": ("Payout ratio", "valuation", "percent"),
    "revenue_growth_yoy": ("Revenue growth (year on year)", "growth", "percent"),
    "eps_growth_yoy": ("EPS growth (year on year)", "growth", "percent"),
    "revenue_cagr_3y": ("Revenue CAGR (3 years)", "growth", "percent"),
    "eps_cagr_3y": ("EPS CAGR (3 years)", "growth", "percent"),
    "gross_margin": ("Gross margin", "profitability", "percent"),
    "operating_margin": ("Operating margin", "profitability", "percent"),
    "net_margin": ("Net margin", "profitability", "percent"),
    "roe": ("Return on equity", "profitability", "percent"),
    "roa": ("Return on assets", "profitability", "percent"),
    "roic": ("Return on invested capital", "profitability", "percent"),
    "debt_to_equity": ("Debt/equity", "balance_sheet", "multiple"),
    "net_debt": ("Net debt", "balance_sheet", "currency"),
    "current_ratio": ("Current ratio", "balance_sheet", "multiple"),
    "interest_coverage": ("Interest coverage (EBIT/interest)", "balance_sheet", "multiple"),
    "free_cash_flow": ("Free cash flow", "cash_flow", "currency"),
    "fcf_margin": ("Free cash flow margin", "cash_flow", "percent"),
    "capex_to_revenue": ("Capital expenditure/revenue", "cash_flow", "percent"),
    "position_in_52w_range": ("Position in 52-week range", "market", "percent"),
    "return_1m": ("Price return (1 month)", "market", "percent"),
    "return_3m": ("Price return (3 months)", "market", "percent"),
    "return_6m": ("Price return (6 months)", "market", "percent"),
    "return_1y": ("Price return (1 year)", "market", "percent"),
    "volatility": ("Annualised volatility", "market", "percent"),
    "max_drawdown": ("Maximum drawdown", "market", "percent"),
    "beta": ("Beta", "market", "number"),
    "target_mean": ("Analyst target (mean)", "analysts", "per_share"),
    "target_high": ("Analyst target (high)", "analysts", "per_share"),
    "target_low": ("Analyst target (low)", "analysts", "per_share"),
    "upside_to_mean": ("Upside to mean target", "analysts", "percent"),
    "recommendation": ("Analyst recommendation", "analysts", "number"),
    "recommendation_mean": ("Recommendation score (1 strong buy - 5 sell)", "analysts", "number"),
    "analyst_count": ("Number of analysts", "analysts", "count"),
}

TRADING_DAYS = {"return_1m": 21, "return_3m": 63, "return_6m": 126, "return_1y": 252}
_MIN_DAYS_FOR_RISK = 20


@dataclass(frozen=True)
class Metric:
    """One metric: a value with its period and currency, or absent with the reason."""

    key: str
    label: str
    group: str
    unit: FactUnit
    value: float | None = None
    currency: str | None = None
    period: str | None = None
    reason: str | None = None
    text: str | None = None  # for a metric that is words, not a number (recommendation)

    @property
    def present(self) -> bool:
        return self.value is not None or self.text is not None

    @property
    def display(self) -> str:
        if self.text is not None:
            return self.text
        if self.value is None:
            return "n/a"
        return display(self.value, self.unit, self.currency)


class Metrics:
    """All metrics of one company, in METRIC_DEFINITIONS order, looked up by key."""

    def __init__(self, metrics: list[Metric]) -> None:
        self._by_key = {metric.key: metric for metric in metrics}

    def __getitem__(self, key: str) -> Metric:
        return self._by_key[key]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


def _metric(key: str, **fields: Any) -> Metric:
    label, group, unit = METRIC_DEFINITIONS[key]
    return Metric(key=key, label=label, group=group, unit=unit, **fields)


def _absent(key: str, reason: str) -> Metric:
    return _metric(key, reason=reason)


def _from_figure(key: str, figure: Figure | None, reason: str, *, money: bool = True) -> Metric:
    if figure is None:
        return _absent(key, reason)
    return _metric(
        key, value=figure.value, period=figure.period, currency=figure.currency if money else None
    )


def _ratio(key: str, value: float | None, period: str | None, reason: str) -> Metric:
    if value is None or not math.isfinite(value):
        return _absent(key, reason)
    return _metric(key, value=value, period=period)


def _divide(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


class _Calculator:
    """Computes every metric of one company; methods are grouped like the fact sheet."""

    def __init__(self, company: CompanyData) -> None:
        self.c = company
        self.stats = company.statistics
        self.price = company.quote.price
        self.quote_currency = company.quote.currency
        self.same_currency = currencies_match(company)
        self.mismatch = currency_mismatch(company)
        core = core_figures(company)
        self.revenue, self.net_income, self.eps = core.revenue, core.net_income, core.eps
        self.ebitda, self.fcf, self.capex = core.ebitda, core.fcf, core.capex
        self.debt, self.cash = core.debt, core.cash

    def all(self) -> list[Metric]:
        groups: list[Callable[[], list[Metric]]] = [
            self.overview,
            self.valuation,
            self.growth,
            self.profitability,
            self.balance_sheet,
            self.cash_flow,
            self.market,
            self.analysts,
        ]
        return [metric for group in groups for metric in group()]

    # -- overview ---------------------------------------------------------------------
    def overview(self) -> list[Metric]:
        quote = self.c.quote
        as_of = f"as of {self.c.as_of.isoformat()}"
        return [
            _absent("price", "no price from Yahoo Finance")
            if quote.price is None
            else _metric("price", value=quote.price, currency=quote.currency, period=as_of),
            _absent("market_cap", "no market capitalisation from Yahoo Finance")
            if quote.market_cap is None
            else _metric(
                "market_cap", value=quote.market_cap, currency=quote.currency, period=as_of
            ),
            _from_figure("revenue_ttm", self.revenue, "no revenue reported"),
            _from_figure("net_income_ttm", self.net_income, "no net income reported"),
            _from_figure(
                "eps_ttm",
                self.eps,
                "no earnings per share reported" if self.same_currency else self.mismatch,
            ),
        ]

    # -- valuation --------------------------------------------------------------------
    def valuation(self) -> list[Metric]:
        return [
            self._earnings_multiple("pe_trailing", self.eps),
            self._earnings_multiple(
                "pe_forward",
                None
                if self.stats.forward_eps is None
                else Figure(self.stats.forward_eps, "next fiscal year (estimate)"),
            ),
            self._peg(),
            self._price_to_sales(),
            self._price_to_book(),
            *self._enterprise(),
            self._fcf_yield(),
            self._dividend_yield(),
            self._payout_ratio(),
        ]

    def _earnings_multiple(self, key: str, eps: Figure | None) -> Metric:
        if not self.same_currency:
            return _absent(key, self.mismatch)
        if eps is None:
            return _absent(key, "no earnings per share reported")
        if eps.value <= 0:
            return _absent(key, f"not meaningful: earnings per share are negative ({eps.value:g})")
        if self.price is None:
            return _absent(key, "no share price")
        return _metric(key, value=self.price / eps.value, period=eps.period)

    def _peg(self) -> Metric:
        if self.same_currency and self.stats.peg_ratio is not None and self.stats.peg_ratio > 0:
            period = f"as of {self.c.as_of.isoformat()} (Yahoo Finance)"
            return _metric("peg", value=self.stats.peg_ratio, period=period)
        pe = self._earnings_multiple("pe_trailing", self.eps)
        growth = self.stats.earnings_growth
        if pe.value is None:
            return _absent("peg", pe.reason or "no P/E")
        if growth is None or growth <= 0:
            return _absent("peg", "not meaningful without positive earnings growth")
        return _metric("peg", value=pe.value / (growth * 100), period=pe.period)

    def _price_to_sales(self) -> Metric:
        if not self.same_currency:
            return _absent("price_to_sales", self.mismatch)
        if self.revenue is None or self.revenue.value <= 0:
            return _absent("price_to_sales", "no revenue reported")
        value = _divide(self.c.quote.market_cap, self.revenue.value)
        return _ratio("price_to_sales", value, self.revenue.period, "no market capitalisation")

    def _price_to_book(self) -> Metric:
        equity = latest_balance(self.c, "StockholdersEquity")
        shares = latest_balance(self.c, "OrdinarySharesNumber")
        if equity is not None and shares is not None and equity.period == shares.period:
            book = Figure(equity.value / shares.value, equity.period)
        elif self.stats.book_value_per_share is not None:
            book = Figure(self.stats.book_value_per_share, "latest")
        else:
            return _absent("price_to_book", "no book value reported")
        if book.value <= 0:
            return _absent("price_to_book", "not meaningful: book value is negative")
        if not self.same_currency:
            return _absent("price_to_book", self.mismatch)
        return _ratio(
            "price_to_book", _divide(self.price, book.value), book.period, "no share price"
        )

    def _enterprise(self) -> list[Metric]:
        keys = ("enterprise_value", "ev_to_ebitda", "ev_to_revenue")
        if not self.same_currency:
            return [_absent(key, self.mismatch) for key in keys]
        cap = self.c.quote.market_cap
        if cap is None or self.debt is None or self.cash is None:
            reason = "needs market capitalisation, total debt and cash"
            return [_absent(key, reason) for key in keys]
        ev = cap + self.debt.value - self.cash.value
        result = [
            _metric(
                "enterprise_value", value=ev, currency=self.quote_currency, period=self.debt.period
            )
        ]
        if self.ebitda is None or self.ebitda.value <= 0:
            result.append(
                _absent("ev_to_ebitda", "not meaningful: EBITDA is negative or not reported")
            )
        else:
            result.append(
                _metric("ev_to_ebitda", value=ev / self.ebitda.value, period=self.ebitda.period)
            )
        if self.revenue is None or self.revenue.value <= 0:
            result.append(_absent("ev_to_revenue", "no revenue reported"))
        else:
            result.append(
                _metric("ev_to_revenue", value=ev / self.revenue.value, period=self.revenue.period)
            )
        return result

    def _fcf_yield(self) -> Metric:
        if self.fcf is None:
            return _absent("fcf_yield", "no free cash flow reported")
        if not self.same_currency:
            return _absent("fcf_yield", self.mismatch)
        return _ratio(
            "fcf_yield",
            _divide(self.fcf.value, self.c.quote.market_cap),
            self.fcf.period,
            "no market capitalisation",
        )

    def _dividend_yield(self) -> Metric:
        value = self.stats.dividend_yield
        if value is None:
            return _absent("dividend_yield", "no dividend reported")
        return _metric("dividend_yield", value=value, period="forward (Yahoo Finance)")

    def _payout_ratio(self) -> Metric:
        if self.net_income is not None and self.net_income.value <= 0:
            return _absent("payout_ratio", "not meaningful: net income is negative")
        if self.stats.payout_ratio is None:
            return _absent("payout_ratio", "no payout ratio reported")
        return _metric("payout_ratio", value=self.stats.payout_ratio, period="TTM")

    # -- growth -----------------------------------------------------------------------
    def growth(self) -> list[Metric]:
        return [
            self._yoy("revenue_growth_yoy", "TotalRevenue", self.stats.revenue_growth),
            self._yoy("eps_growth_yoy", "DilutedEPS", self.stats.earnings_growth),
            self._cagr("revenue_cagr_3y", "TotalRevenue"),
            self._cagr("eps_cagr_3y", "DilutedEPS"),
        ]

    def _yoy(self, key: str, item: str, yahoo: float | None) -> Metric:
        series = annual_series(self.c, "income", item)
        if len(series) >= 2:
            (_, before), (end, after) = series[-2], series[-1]
            if before <= 0:
                return _absent(key, "not meaningful: the prior year was negative or zero")
            return _metric(
                key,
                value=after / before - 1,
                period=f"{fiscal_label(end)} vs {fiscal_label(series[-2][0])}",
            )
        if yahoo is not None:
            return _metric(key, value=yahoo, period="latest quarter, year on year")
        return _absent(key, "needs two fiscal years")

    def _cagr(self, key: str, item: str) -> Metric:
        series = annual_series(self.c, "income", item)
        if len(series) < 4:
            return _absent(key, f"needs 4 fiscal years; Yahoo Finance has {len(series)}")
        (start, first), (end, last) = series[-4], series[-1]
        if first <= 0 or last <= 0:
            return _absent(key, "not meaningful: negative or zero at an end")
        return _metric(
            key,
            value=(last / first) ** (1 / 3) - 1,
            period=f"{fiscal_label(start)}-{fiscal_label(end)}",
        )

    # -- profitability ----------------------------------------------------------------
    def profitability(self) -> list[Metric]:
        return [
            self._margin("gross_margin", "GrossProfit", self.stats.gross_margin),
            self._margin("operating_margin", "OperatingIncome", self.stats.operating_margin),
            self._margin("net_margin", "NetIncome", self.stats.profit_margin),
            self._return_on("roe", "StockholdersEquity", self.stats.return_on_equity),
            self._return_on("roa", "TotalAssets", self.stats.return_on_assets),
            self._roic(),
        ]

    def _margin(self, key: str, item: str, yahoo: float | None) -> Metric:
        revenue = latest_annual(self.c, "income", "TotalRevenue")
        if revenue is not None and revenue.value > 0:
            part = annual_at(self.c, "income", item, revenue.period)
            if part is not None:
                return _metric(key, value=part.value / revenue.value, period=revenue.period)
        if yahoo is not None:
            return _metric(key, value=yahoo, period="TTM")
        return _absent(key, "no revenue or profit reported")

    def _return_on(self, key: str, base_item: str, yahoo: float | None) -> Metric:
        income = latest_annual(self.c, "income", "NetIncome")
        if income is not None:
            base = annual_at(self.c, "balance", base_item, income.period)
            if base is not None:
                if base.value <= 0:
                    return _absent(key, "not meaningful: the base is negative or zero")
                return _metric(key, value=income.value / base.value, period=income.period)
        if yahoo is not None:
            return _metric(key, value=yahoo, period="TTM")
        return _absent(key, "no net income or balance sheet reported")

    def _roic(self) -> Metric:
        ebit = latest_annual(self.c, "income", "EBIT")
        if ebit is None:
            return _absent("roic", "no EBIT reported")
        period = ebit.period
        tax = annual_at(self.c, "income", "TaxProvision", period)
        pretax = annual_at(self.c, "income", "PretaxIncome", period)
        capital = annual_at(self.c, "balance", "InvestedCapital", period)
        if tax is None or pretax is None or pretax.value <= 0 or capital is None:
            return _absent("roic", f"needs tax, pre-tax income and invested capital for {period}")
        if capital.value <= 0:
            return _absent("roic", "not meaningful: invested capital is negative")
        nopat = ebit.value * (1 - tax.value / pretax.value)
        return _metric("roic", value=nopat / capital.value, period=period)

    # -- balance sheet ----------------------------------------------------------------
    def balance_sheet(self) -> list[Metric]:
        equity = latest_balance(self.c, "StockholdersEquity")
        if self.debt is not None and equity is not None and equity.period == self.debt.period:
            debt_to_equity = (
                _absent("debt_to_equity", "not meaningful: equity is negative")
                if equity.value <= 0
                else _metric(
                    "debt_to_equity", value=self.debt.value / equity.value, period=equity.period
                )
            )
        elif self.stats.debt_to_equity is not None:
            debt_to_equity = _metric(
                "debt_to_equity", value=self.stats.debt_to_equity, period="latest quarter"
            )
        else:
            debt_to_equity = _absent("debt_to_equity", "no debt or equity reported")

        if self.debt is not None and self.cash is not None:
            net_debt = _metric(
                "net_debt",
                value=self.debt.value - self.cash.value,
                currency=self.debt.currency,
                period=self.debt.period,
            )
        else:
            net_debt = _absent("net_debt", "no debt or cash reported")

        assets = latest_balance(self.c, "CurrentAssets")
        liabilities = latest_balance(self.c, "CurrentLiabilities")
        if assets is not None and liabilities is not None and liabilities.value > 0:
            current = _metric(
                "current_ratio", value=assets.value / liabilities.value, period=assets.period
            )
        elif self.stats.current_ratio is not None:
            current = _metric(
                "current_ratio", value=self.stats.current_ratio, period="latest quarter"
            )
        else:
            current = _absent("current_ratio", "no current assets or liabilities reported")
        return [debt_to_equity, net_debt, current, self._interest_coverage()]

    def _interest_coverage(self) -> Metric:
        ebit = latest_annual(self.c, "income", "EBIT")
        if ebit is None:
            return _absent("interest_coverage", "no EBIT reported")
        interest = annual_at(self.c, "income", "InterestExpense", ebit.period)
        if interest is None or interest.value <= 0:
            return _absent("interest_coverage", f"no interest expense reported for {ebit.period}")
        return _metric("interest_coverage", value=ebit.value / interest.value, period=ebit.period)

    # -- cash flow --------------------------------------------------------------------
    def cash_flow(self) -> list[Metric]:
        fcf = _from_figure("free_cash_flow", self.fcf, "no free cash flow reported")
        revenue = self.revenue
        if self.fcf is None or revenue is None or revenue.value <= 0:
            margin = _absent("fcf_margin", "needs free cash flow and revenue")
        elif self.fcf.period != revenue.period:
            margin = _absent("fcf_margin", "free cash flow and revenue cover different periods")
        else:
            margin = _metric(
                "fcf_margin", value=self.fcf.value / revenue.value, period=revenue.period
            )
        if self.capex is None or revenue is None or revenue.value <= 0:
            capex = _absent("capex_to_revenue", "needs capital expenditure and revenue")
        elif self.capex.period != revenue.period:
            capex = _absent(
                "capex_to_revenue", "capital expenditure and revenue cover different periods"
            )
        else:
            capex = _metric(
                "capex_to_revenue",
                value=abs(self.capex.value) / revenue.value,
                period=revenue.period,
            )
        return [fcf, margin, capex]

    # -- market -----------------------------------------------------------------------
    def market(self) -> list[Metric]:
        quote = self.c.quote
        high, low = quote.fifty_two_week_high, quote.fifty_two_week_low
        if self.price is None or high is None or low is None or high <= low:
            position = _absent("position_in_52w_range", "needs price and 52-week high and low")
        else:
            position = _metric(
                "position_in_52w_range",
                value=(self.price - low) / (high - low),
                period=f"as of {self.c.as_of.isoformat()}",
            )
        metrics = [position]
        metrics.extend(self._return(key, days) for key, days in TRADING_DAYS.items())
        metrics.extend(self._risk())
        beta = self.stats.beta
        metrics.append(
            _absent("beta", "no beta reported")
            if beta is None
            else _metric("beta", value=beta, period="5 years monthly (Yahoo Finance)")
        )
        return metrics

    def _return(self, key: str, days: int) -> Metric:
        prices = self.c.prices
        covered = price_window(self.c)
        if prices is not None and not covered.current:
            return _absent(key, f"not computed: {covered.reason}")
        have = 0 if prices is None else len(prices.close)
        if prices is None or have <= days:
            return _absent(key, f"needs {days + 1} trading days of prices; have {have}")
        start, end = prices.close[-1 - days], prices.close[-1]
        return _metric(
            key,
            value=end / start - 1,
            period=f"{prices.dates[-1 - days].isoformat()} to {prices.dates[-1].isoformat()}",
        )

    def _risk(self) -> list[Metric]:
        prices = self.c.prices
        covered = price_window(self.c)
        if prices is not None and not covered.current:
            stale = f"not computed: {covered.reason}"
            return [_absent("volatility", stale), _absent("max_drawdown", stale)]
        have = 0 if prices is None else len(prices.close)
        if prices is None or have < _MIN_DAYS_FOR_RISK:
            reason = f"needs {_MIN_DAYS_FOR_RISK} trading days of prices; have {have}"
            return [_absent("volatility", reason), _absent("max_drawdown", reason)]
        closes = prices.close[-253:]
        returns = [math.log(b / a) for a, b in pairwise(closes)]
        mean = sum(returns) / len(returns)
        variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
        window = f"{prices.dates[-len(closes)].isoformat()} to {prices.dates[-1].isoformat()}"
        peak, drawdown = prices.close[0], 0.0
        for close in prices.close:
            peak = max(peak, close)
            drawdown = min(drawdown, close / peak - 1)
        whole = f"{prices.dates[0].isoformat()} to {prices.dates[-1].isoformat()}"
        return [
            _metric("volatility", value=math.sqrt(variance * 252), period=window),
            _metric("max_drawdown", value=drawdown, period=whole),
        ]

    # -- analysts ---------------------------------------------------------------------
    def analysts(self) -> list[Metric]:
        a = self.c.analysts
        currency = self.quote_currency
        as_of = f"as of {self.c.as_of.isoformat()}"
        targets = [
            _absent(key, "no analyst target reported")
            if value is None
            else _metric(key, value=value, currency=currency, period="12-month target")
            for key, value in (
                ("target_mean", a.target_mean),
                ("target_high", a.target_high),
                ("target_low", a.target_low),
            )
        ]
        upside = _divide(a.target_mean, self.price)
        return [
            *targets,
            _absent("upside_to_mean", "needs price and mean target")
            if upside is None
            else _metric("upside_to_mean", value=upside - 1, period="12-month target"),
            _absent("recommendation", "no analyst recommendation")
            if a.recommendation is None
            else _metric(
                "recommendation", text=a.recommendation.replace("_", " ").title(), period=as_of
            ),
            _absent("recommendation_mean", "no analyst recommendation")
            if a.recommendation_mean is None
            else _metric("recommendation_mean", value=a.recommendation_mean, period=as_of),
            _absent("analyst_count", "no analysts reported")
            if not a.analyst_count
            else _metric("analyst_count", value=float(a.analyst_count), period=as_of),
        ]


def compute_metrics(company: CompanyData) -> Metrics:
    """Every metric of METRIC_DEFINITIONS for the company, present or absent with a reason."""
    return Metrics(_Calculator(company).all())
