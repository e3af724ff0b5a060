"""What the company would be worth at its peers' multiples, and at its own past ones.

Against peers: the peers' P/E, EV/EBITDA and P/S (their metrics, as in the comps
table) applied to the company's own earnings, EBITDA and revenue:
    P/E        value per share = multiple x diluted EPS (TTM)
    EV/EBITDA  value per share = (multiple x EBITDA - debt + cash) / shares
    P/S        value per share = multiple x revenue / shares
low, mid and high use the peers' lower quartile, median and upper quartile.

Against its own history: the same multiples at each fiscal year end the price history
reaches (close on the last trading day of the year over that year's EPS, revenue,
EBITDA and year-end balance sheet), low, median and high of those years applied to
today's figures. The closes are split- and dividend-adjusted, which understates past
prices by the dividends paid since: past multiples read a little low.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Callable
from datetime import date, timedelta
from typing import Literal

from frontend_app.market.company import CompanyData
from vast_ai.schemas import Fact

from .comps import Comps
from .dcf import financial_company
from .figures import (
    CoreFigures,
    annual_at,
    annual_series,
    core_figures,
    currencies_match,
    currency_mismatch,
    financial_currency,
    fiscal_label,
    shares_outstanding,
)
from .formatting import money, multiple
from .results import NotMeaningful, Result, Table, TableRow, fact

MultipleKey = Literal["pe_trailing", "ev_to_ebitda", "price_to_sales"]
MULTIPLES: dict[MultipleKey, str] = {
    "pe_trailing": "P/E",
    "ev_to_ebitda": "EV/EBITDA",
    "price_to_sales": "P/S",
}
Group = Literal["peers", "history"]
# A fiscal year end needs a close at most this many days before it.
MAX_CLOSE_GAP_DAYS = 7
MIN_YEARS = 2


class ImpliedValue(Result):
    """A value range for the share from one multiple, with what it rests on."""

    key: str  # "peers_pe_trailing", "history_ev_to_ebitda"
    method: str  # "P/E vs peers"
    group: Group
    currency: str
    multiple_low: float
    multiple_mid: float
    multiple_high: float
    basis: str  # "diluted EPS $6.31 (TTM to 2024-12-31)"
    low: float
    mid: float
    high: float
    detail: str  # the peers or the years behind the multiples
    period: str

    def facts(self) -> list[Fact]:
        name = self.method
        return [
            fact(
                f"{self.key}_multiple",
                f"{name}: median multiple",
                self.multiple_mid,
                "multiple",
                self.period,
            ),
            fact(
                f"{self.key}_value",
                f"{name}: value per share",
                self.mid,
                "per_share",
                self.period,
                self.currency,
            ),
            fact(
                f"{self.key}_value_low",
                f"{name}: value per share (low)",
                self.low,
                "per_share",
                self.period,
                self.currency,
            ),
            fact(
                f"{self.key}_value_high",
                f"{name}: value per share (high)",
                self.high,
                "per_share",
                self.period,
                self.currency,
            ),
        ]


Valuer = Callable[[float], float]  # multiple -> value per share


def _valuer(key: MultipleKey, company: CompanyData, core: CoreFigures) -> tuple[Valuer, str] | str:
    """How a multiple becomes a value per share for this company, or why it cannot."""
    currency = financial_currency(company)
    shares = shares_outstanding(company)
    if key == "pe_trailing":
        eps = core.eps
        if eps is None:
            return "no earnings per share reported"
        if eps.value <= 0:
            return f"earnings per share are negative ({eps.value:g})"
        basis = f"diluted EPS {money(eps.value, currency, compact=False)} ({eps.period})"
        return (lambda m: m * eps.value), basis
    if not shares:
        return "no share count"
    if key == "ev_to_ebitda":
        financial = financial_company(company)
        if financial:
            return f"EV/EBITDA does not fit banks and insurers ({financial})"
        ebitda = core.ebitda
        if ebitda is None or ebitda.value <= 0:
            return "EBITDA is negative or not reported"
        net_debt = (0.0 if core.debt is None else core.debt.value) - (
            0.0 if core.cash is None else core.cash.value
        )
        basis = (
            f"EBITDA {money(ebitda.value, currency)} ({ebitda.period}), net debt "
            f"{money(net_debt, currency)}, {shares:,.0f} shares"
        )
        return (lambda m: (m * ebitda.value - net_debt) / shares), basis
    revenue = core.revenue
    if revenue is None or revenue.value <= 0:
        return "no revenue reported"
    basis = f"revenue {money(revenue.value, currency)} ({revenue.period}), {shares:,.0f} shares"
    return (lambda m: m * revenue.value / shares), basis


def _spread(values: list[float]) -> tuple[float, float, float]:
    """Lower quartile, median and upper quartile (one value: itself three times)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    low, mid, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, mid, high


# The multiples a group finds for one key: [(whose: a peer or a fiscal year, multiple)],
# or why there are none.
Finder = Callable[[MultipleKey], list[tuple[str, float]] | str]


def _value_by(
    company: CompanyData, group: Group, find: Finder
) -> list[ImpliedValue | NotMeaningful]:
    """Each multiple of MULTIPLES turned into a value range, or why it does not fit."""
    core = core_figures(company)
    results: list[ImpliedValue | NotMeaningful] = []
    for key, name in MULTIPLES.items():
        method = f"{name} vs {'peers' if group == 'peers' else 'own history'}"
        valuer = (
            _valuer(key, company, core) if currencies_match(company) else currency_mismatch(company)
        )
        if isinstance(valuer, str):
            results.append(NotMeaningful(method=method, reason=valuer))
            continue
        found = find(key)
        if isinstance(found, str):
            results.append(NotMeaningful(method=method, reason=found))
            continue
        value, basis = valuer
        low_m, mid_m, high_m = _spread([multiple_ for _, multiple_ in found])
        low, mid, high = value(low_m), value(mid_m), value(high_m)
        if high <= 0:
            reason = "net debt exceeds the value at these multiples"
            results.append(NotMeaningful(method=method, reason=reason))
            continue
        results.append(
            ImpliedValue(
                key=f"{group}_{key}",
                method=method,
                group=group,
                currency=financial_currency(company),
                multiple_low=low_m,
                multiple_mid=mid_m,
                multiple_high=high_m,
                basis=basis,
                low=max(low, 0.0),
                mid=max(mid, 0.0),
                high=high,
                detail=", ".join(f"{whose} {multiple(v)}" for whose, v in found),
                period=f"as of {company.as_of.isoformat()}",
            )
        )
    return results


def peer_multiples(company: CompanyData, comps: Comps) -> list[ImpliedValue | NotMeaningful]:
    """The company valued at its peers' P/E, EV/EBITDA and P/S."""

    def find(key: MultipleKey) -> list[tuple[str, float]] | str:
        used = [(p.ticker, v) for p in comps.peers if (v := p.values[key]) is not None]
        if used:
            return used
        return "no peers" if not comps.peers else f"no peer has a meaningful {MULTIPLES[key]}"

    return _value_by(company, "peers", find)


def _close_at(company: CompanyData, day: date) -> float | None:
    """The close of the last trading day on or before `day`, if within a week of it."""
    prices = company.prices
    if prices is None:
        return None
    index = bisect_right(prices.dates, day) - 1
    if index < 0 or day - prices.dates[index] > timedelta(days=MAX_CLOSE_GAP_DAYS):
        return None
    return prices.close[index]


def _past_multiples(company: CompanyData, key: MultipleKey) -> list[tuple[str, float]]:
    """(fiscal year, multiple) at each fiscal year end the prices reach."""
    item = {"pe_trailing": "DilutedEPS", "ev_to_ebitda": "EBITDA", "price_to_sales": "TotalRevenue"}
    points = []
    for end, base in annual_series(company, "income", item[key]):
        close = _close_at(company, end)
        if close is None or base <= 0:
            continue
        year = fiscal_label(end)
        if key == "pe_trailing":
            points.append((year, close / base))
            continue
        shares = annual_at(company, "balance", "OrdinarySharesNumber", year)
        if shares is None:
            continue
        value = close * shares.value
        if key == "ev_to_ebitda":
            debt = annual_at(company, "balance", "TotalDebt", year)
            cash = annual_at(company, "balance", "CashCashEquivalentsAndShortTermInvestments", year)
            if debt is None or cash is None:
                continue
            value += debt.value - cash.value
        points.append((year, value / base))
    return points


def history_multiples(company: CompanyData) -> list[ImpliedValue | NotMeaningful]:
    """The company valued at its own multiples of past fiscal year ends."""

    def find(key: MultipleKey) -> list[tuple[str, float]] | str:
        points = _past_multiples(company, key)
        return points if len(points) >= MIN_YEARS else _why_no_history(company, len(points))

    return _value_by(company, "history", find)


def _why_no_history(company: CompanyData, found: int) -> str:
    years = [fiscal_label(end) for end, _ in annual_series(company, "income", "TotalRevenue")]
    prices = company.prices
    if not years:
        return "no annual statements"
    if prices is None:
        return "no price history"
    return (
        f"the price history ({prices.dates[0].isoformat()} to {prices.dates[-1].isoformat()}) "
        f"reaches {found} of the fiscal year ends {years[0]}-{years[-1]}; needs {MIN_YEARS}"
    )


def multiples_table(values: list[ImpliedValue]) -> Table:
    def per_share(value: float, currency: str) -> str:
        return money(value, currency, compact=False)

    return Table(
        key="multiples",
        title="Valuation by multiples",
        label_heading="Method",
        columns=["Multiples (low / median / high)", "Value per share", "Based on", "From"],
        rows=[
            TableRow(
                label=v.method,
                cells=[
                    " / ".join(
                        multiple(m) for m in (v.multiple_low, v.multiple_mid, v.multiple_high)
                    ),
                    " / ".join(per_share(x, v.currency) for x in (v.low, v.mid, v.high)),
                    v.basis,
                    v.detail,
                ],
            )
            for v in values
        ],
        note="low / mid / high: the lower quartile, median and upper quartile of the multiples",
    )
