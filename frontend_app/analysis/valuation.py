"""A company's valuation: every method, the football field, the price target, the rating check.

Methods: the DCF (with its sensitivity grid and the reverse DCF), P/E, EV/EBITDA and
P/S against the peers and against the company's own past fiscal year ends. Each is
a value range per share or NotMeaningful with the reason.

The price target (bear / base / bull) weighs the methods that fit by group, with the
settings' weights (by default DCF 50%, peers 30%, own history 20%; a group with no
method that fits drops out and the others are scaled up to 100%; within a group the
methods share its weight equally): bear = sum of weight x low, base = sum of weight x
mid, bull = sum of weight x high. The analysts' targets and the 52-week range are
shown beside it, never mixed into it.

A rating is consistent with the target when a buy has its base above the price, a sell
below it, and a hold the price between bear and bull.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from frontend_app.market.company import CompanyData
from vast_ai.schemas import Fact

from .assumptions import SENSITIVITY_STEP, STALE_RATE_DAYS, ValuationSettings
from .comps import Comps
from .dcf import Dcf, ReverseDcf, SensitivityGrid, dcf, dcf_setup, reverse_dcf, sensitivity
from .figures import financial_currency
from .formatting import money, percent
from .multiples import ImpliedValue, history_multiples, multiples_table, peer_multiples
from .results import NotMeaningful, Result, Table, TableRow, fact

RatingStatus = Literal["consistent", "inconsistent", "unchecked"]
BUY_WORDS = {"buy", "strong buy", "outperform", "overweight", "accumulate"}
SELL_WORDS = {"sell", "strong sell", "underperform", "underweight", "reduce"}
HOLD_WORDS = {"hold", "neutral", "market perform", "equal weight", "equal-weight"}


class FieldBar(Result):
    key: str
    label: str
    low: float
    high: float
    mid: float | None
    kind: Literal["method", "reference"]  # a valuation, or the analysts' and market's ranges
    note: str


class FootballField(Result):
    """The football-field chart: one bar per method and reference, the price as a line."""

    currency: str
    price: float | None
    bars: list[FieldBar]
    not_meaningful: list[NotMeaningful]

    def chart(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "price": self.price,
            "labels": [bar.label for bar in self.bars],
            "low": [bar.low for bar in self.bars],
            "high": [bar.high for bar in self.bars],
            "mid": [bar.mid for bar in self.bars],
            "kinds": [bar.kind for bar in self.bars],
            "notes": [bar.note for bar in self.bars],
            "not_meaningful": [item.model_dump() for item in self.not_meaningful],
        }


class WeightedMethod(Result):
    method: str
    group: str
    weight: float
    low: float
    mid: float
    high: float


class PriceTarget(Result):
    currency: str
    price: float | None
    bear: float
    base: float
    bull: float
    upside: float | None
    methods: list[WeightedMethod]
    period: str

    def facts(self) -> list[Fact]:
        def target(key: str, label: str, value: float) -> Fact:
            return fact(key, label, value, "per_share", self.period, self.currency)

        facts = [
            target("price_target_bear", "ERT price target, bear case", self.bear),
            target("price_target_base", "ERT price target, base case", self.base),
            target("price_target_bull", "ERT price target, bull case", self.bull),
        ]
        if self.upside is not None:
            label = "Upside to the ERT base-case target"
            facts.append(fact("price_target_upside", label, self.upside, "percent", self.period))
        facts += [
            fact(
                f"price_target_weight_{m.group}_{i}",
                f"Weight of {m.method} in the ERT price target",
                m.weight,
                "percent",
                self.period,
            )
            for i, m in enumerate(self.methods, start=1)
        ]
        return facts

    def table(self) -> Table:
        def shown(value: float) -> str:
            return money(value, self.currency, compact=False)

        rows = [
            TableRow(
                label=m.method,
                cells=[percent(m.weight), shown(m.low), shown(m.mid), shown(m.high)],
            )
            for m in self.methods
        ]
        rows.append(
            TableRow(
                label="Price target",
                cells=["100.0%", shown(self.bear), shown(self.base), shown(self.bull)],
                highlight=True,
            )
        )
        return Table(
            key="price_target",
            title="Price target: bear, base and bull",
            label_heading="Method",
            columns=["Weight", "Bear (low)", "Base (mid)", "Bull (high)"],
            rows=rows,
            note=(
                "Weights by group (DCF, peers, own history) from the settings, shared equally "
                "within a group; methods that do not fit drop out. The analysts' targets are "
                "not an input."
            ),
        )


class RatingCheck(Result):
    recommendation: str
    status: RatingStatus
    reason: str


def check_rating(recommendation: str, target: PriceTarget | NotMeaningful) -> RatingCheck:
    """Whether a rating agrees with ERT's price target (buy: base above the price; sell:
    below it; hold: the price between bear and bull)."""
    words = recommendation.strip().lower().replace("_", " ")

    def result(status: RatingStatus, reason: str) -> RatingCheck:
        return RatingCheck(recommendation=recommendation, status=status, reason=reason)

    if words in ("", "not rated", "none"):
        return result("unchecked", "not rated")
    if isinstance(target, NotMeaningful):
        return result("unchecked", f"no ERT price target: {target.reason}")
    if target.price is None:
        return result("unchecked", "no share price to compare the target with")
    price = money(target.price, target.currency, compact=False)
    base = money(target.base, target.currency, compact=False)
    if words in BUY_WORDS:
        if target.base > target.price:
            return result("consistent", f"the base-case target {base} is above the price {price}")
        return result(
            "inconsistent", f"a buy, but the base-case target {base} is not above the price {price}"
        )
    if words in SELL_WORDS:
        if target.base < target.price:
            return result("consistent", f"the base-case target {base} is below the price {price}")
        return result(
            "inconsistent",
            f"a sell, but the base-case target {base} is not below the price {price}",
        )
    if words in HOLD_WORDS:
        bear = money(target.bear, target.currency, compact=False)
        bull = money(target.bull, target.currency, compact=False)
        if target.bear <= target.price <= target.bull:
            return result(
                "consistent", f"the price {price} is within the target range {bear} to {bull}"
            )
        return result(
            "inconsistent",
            f"a hold, but the price {price} is outside the target range {bear} to {bull}",
        )
    return result("unchecked", f"'{recommendation}' is not a rating ERT knows")


def _target(
    company: CompanyData, ranges: list[_Range], settings: ValuationSettings
) -> PriceTarget | NotMeaningful:
    groups = {r.group for r in ranges}
    total = sum(settings.weights[group] for group in groups)
    if not groups or total <= 0:
        reason = "no valuation method fits the company" if not groups else "weights of 0"
        return NotMeaningful(method="Price target", reason=reason)
    weighted = [
        WeightedMethod(
            method=r.method,
            group=r.group,
            weight=settings.weights[r.group] / total / sum(o.group == r.group for o in ranges),
            low=r.low,
            mid=r.mid,
            high=r.high,
        )
        for r in ranges
    ]
    price = company.quote.price
    base = sum(m.weight * m.mid for m in weighted)
    return PriceTarget(
        currency=financial_currency(company),
        price=price,
        bear=sum(m.weight * m.low for m in weighted),
        base=base,
        bull=sum(m.weight * m.high for m in weighted),
        upside=None if not price else base / price - 1,
        methods=weighted,
        period=f"as of {company.as_of.isoformat()}",
    )


def _references(company: CompanyData) -> list[FieldBar]:
    bars = []
    analysts, quote = company.analysts, company.quote
    if analysts.target_low is not None and analysts.target_high is not None:
        count = f"{analysts.analyst_count} analysts" if analysts.analyst_count else "analysts"
        bars.append(
            FieldBar(
                key="analyst_targets",
                label="Analysts' targets",
                low=analysts.target_low,
                high=analysts.target_high,
                mid=analysts.target_mean,
                kind="reference",
                note=f"{count}, 12-month targets",
            )
        )
    if quote.fifty_two_week_low is not None and quote.fifty_two_week_high is not None:
        bars.append(
            FieldBar(
                key="range_52w",
                label="52-week range",
                low=quote.fifty_two_week_low,
                high=quote.fifty_two_week_high,
                mid=None,
                kind="reference",
                note=f"as of {company.as_of.isoformat()}",
            )
        )
    return bars


class Valuation(Result):
    currency: str
    price: float | None
    dcf: Dcf | NotMeaningful
    sensitivity: SensitivityGrid | None
    reverse_dcf: ReverseDcf | NotMeaningful
    peers: list[ImpliedValue | NotMeaningful]
    history: list[ImpliedValue | NotMeaningful]
    football_field: FootballField
    target: PriceTarget | NotMeaningful
    warnings: list[str]

    def check_rating(self, recommendation: str) -> RatingCheck:
        return check_rating(recommendation, self.target)

    @property
    def not_meaningful(self) -> list[NotMeaningful]:
        every = [self.dcf, self.reverse_dcf, *self.peers, *self.history, self.target]
        return [item for item in every if isinstance(item, NotMeaningful)]

    def facts(self) -> list[Fact]:
        facts: list[Fact] = []
        for item in (self.dcf, self.reverse_dcf, *self.peers, *self.history, self.target):
            if not isinstance(item, NotMeaningful):
                facts += item.facts()
        return facts

    def tables(self) -> list[Table]:
        tables = []
        if isinstance(self.dcf, Dcf):
            tables += [self.dcf.assumptions_table(), self.dcf.table()]
        if self.sensitivity is not None:
            tables.append(self.sensitivity.table())
        methods = [m for m in (*self.peers, *self.history) if isinstance(m, ImpliedValue)]
        if methods:
            tables.append(multiples_table(methods))
        if isinstance(self.target, PriceTarget):
            tables.append(self.target.table())
        if self.not_meaningful:
            tables.append(
                Table(
                    key="not_meaningful",
                    title="Methods that do not fit",
                    label_heading="Method",
                    columns=["Why"],
                    rows=[
                        TableRow(label=item.method, cells=[item.reason])
                        for item in self.not_meaningful
                    ],
                )
            )
        return tables

    def charts(self) -> dict[str, Any]:
        charts: dict[str, Any] = {"football_field": self.football_field.chart()}
        if self.sensitivity is not None:
            charts["sensitivity"] = self.sensitivity.model_dump()
        if isinstance(self.dcf, Dcf):
            charts["dcf_cash_flows"] = {
                "currency": self.dcf.currency,
                "years": [f"Year {y.year}" for y in self.dcf.years],
                "cash_flow": [y.cash_flow for y in self.dcf.years],
                "present_value": [y.present_value for y in self.dcf.years],
            }
        return charts


def _stale_rates(company: CompanyData, settings: ValuationSettings) -> list[str]:
    rates = [settings.equity_risk_premium, *settings.risk_free_rates.values()]
    dated = [rate.as_of for rate in rates if rate.as_of is not None]
    if not dated:
        return []
    oldest = min(dated)
    age = (company.as_of - oldest).days
    if age <= STALE_RATE_DAYS:
        return []
    return [
        f"The market rates in the settings date from {oldest.isoformat()}, {age:,} days before "
        "the company's data: the discount rate may be out of date"
    ]


@dataclass(frozen=True)
class _Range:
    """A fitting method's value range, for the target and the football field."""

    key: str
    method: str
    group: str
    low: float
    mid: float
    high: float
    note: str


def _dcf_parts(
    company: CompanyData, settings: ValuationSettings
) -> tuple[Dcf | NotMeaningful, SensitivityGrid | None, ReverseDcf | NotMeaningful]:
    price = company.quote.price
    setup = dcf_setup(company, settings)
    if isinstance(setup, NotMeaningful):
        return setup, None, NotMeaningful(method="Reverse DCF", reason=setup.reason)
    result = dcf(setup, price)
    if isinstance(result, NotMeaningful):
        return result, None, NotMeaningful(method="Reverse DCF", reason=result.reason)
    return result, sensitivity(setup), reverse_dcf(setup, price)


def _ranges(
    dcf_result: Dcf | NotMeaningful, multiples: list[ImpliedValue | NotMeaningful]
) -> list[_Range]:
    ranges = []
    if isinstance(dcf_result, Dcf):
        ranges.append(
            _Range(
                key="dcf",
                method="Discounted cash flow",
                group="dcf",
                low=dcf_result.low,
                mid=dcf_result.value_per_share,
                high=dcf_result.high,
                note=(
                    f"discount rate and terminal growth each {percent(SENSITIVITY_STEP)} either way"
                ),
            )
        )
    for item in multiples:
        if isinstance(item, ImpliedValue):
            ranges.append(
                _Range(
                    item.key, item.method, item.group, item.low, item.mid, item.high, item.detail
                )
            )
    return ranges


def value_company(company: CompanyData, comps: Comps, settings: ValuationSettings) -> Valuation:
    """Every method, the football field and the price target of `company` against `comps`."""
    dcf_result, grid, reverse = _dcf_parts(company, settings)
    peers = peer_multiples(company, comps)
    history = history_multiples(company)
    ranges = _ranges(dcf_result, [*peers, *history])
    target = _target(company, ranges, settings)
    bars = [
        FieldBar(
            key=r.key, label=r.method, low=r.low, high=r.high, mid=r.mid, kind="method", note=r.note
        )
        for r in ranges
    ]
    if isinstance(target, PriceTarget):
        bars.append(
            FieldBar(
                key="price_target",
                label="ERT price target",
                low=target.bear,
                high=target.bull,
                mid=target.base,
                kind="method",
                note="bear to bull, base marked",
            )
        )
    bars += _references(company)
    unfit = [item for item in (dcf_result, *peers, *history) if isinstance(item, NotMeaningful)]
    price = company.quote.price
    return Valuation(
        currency=company.quote.currency,
        price=price,
        dcf=dcf_result,
        sensitivity=grid,
        reverse_dcf=reverse,
        peers=peers,
        history=history,
        football_field=FootballField(
            currency=company.quote.currency, price=price, bars=bars, not_meaningful=unfit
        ),
        target=target,
        warnings=_stale_rates(company, settings),
    )
