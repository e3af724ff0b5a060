"""The price target from the methods' ranges, the football field, and the rating check."""

from __future__ import annotations

import pytest

from frontend_app.analysis import DEFAULT_SETTINGS, ValuationSettings, build_report_data
from frontend_app.analysis.multiples import ImpliedValue
from frontend_app.analysis.results import NotMeaningful
from frontend_app.analysis.valuation import PriceTarget, check_rating
from frontend_app.market import CompanyData
from frontend_app.market.snapshots import SnapshotSource


@pytest.fixture(scope="module")
def data(aapl: CompanyData, companies: SnapshotSource):
    return build_report_data(aapl, [companies.fetch("CRM"), companies.fetch("EPAC")])


def test_target_weighs_the_methods_that_fit(data) -> None:
    """History does not fit (no prices at the year ends): DCF 0.5 and peers 0.3 are scaled
    to 0.625 and 0.375, and the peers' share is split over their three multiples."""
    valuation = data.valuation
    target = valuation.target
    assert isinstance(target, PriceTarget)
    dcf = valuation.dcf
    peers = [m for m in valuation.peers if isinstance(m, ImpliedValue)]
    assert len(peers) == 3
    weights = [0.5 / 0.8] + [0.3 / 0.8 / 3] * 3
    assert [m.weight for m in target.methods] == pytest.approx(weights)
    lows = [dcf.low] + [m.low for m in peers]
    mids = [dcf.value_per_share] + [m.mid for m in peers]
    highs = [dcf.high] + [m.high for m in peers]
    assert target.bear == pytest.approx(sum(w * v for w, v in zip(weights, lows, strict=True)))
    assert target.base == pytest.approx(sum(w * v for w, v in zip(weights, mids, strict=True)))
    assert target.bull == pytest.approx(sum(w * v for w, v in zip(weights, highs, strict=True)))
    assert target.upside == pytest.approx(target.base / 244.6 - 1)
    facts = {f.key: f for f in data.facts}
    assert facts["price_target_base"].value == pytest.approx(target.base)
    assert facts["price_target_base"].label == "ERT price target, base case"


def test_weights_come_from_the_settings(aapl: CompanyData, companies: SnapshotSource) -> None:
    dcf_only = ValuationSettings(weights={"dcf": 1.0, "peers": 0.0, "history": 0.0})
    data = build_report_data(aapl, [companies.fetch("CRM")], dcf_only)
    target = data.valuation.target
    assert target.base == pytest.approx(data.valuation.dcf.value_per_share)  # type: ignore[union-attr]


def test_football_field_has_every_method_and_reference(data, aapl: CompanyData) -> None:
    field = data.valuation.football_field
    labels = [bar.label for bar in field.bars]
    assert labels == [
        "Discounted cash flow",
        "P/E vs peers",
        "EV/EBITDA vs peers",
        "P/S vs peers",
        "ERT price target",
        "Analysts' targets",
        "52-week range",
    ]
    analysts = field.bars[5]
    assert (analysts.low, analysts.high, analysts.mid) == (197.0, 325.0, pytest.approx(252.22575))
    assert analysts.kind == "reference"
    assert (field.bars[6].low, field.bars[6].high) == (164.08, 260.1)
    assert field.price == 244.6
    assert all(bar.low <= bar.high for bar in field.bars)
    chart = data.charts["football_field"]
    assert chart["labels"] == labels and chart["price"] == 244.6
    assert len(chart["low"]) == len(chart["high"]) == len(chart["mid"]) == len(labels)
    assert [item["method"] for item in chart["not_meaningful"]] == [
        "P/E vs own history",
        "EV/EBITDA vs own history",
        "P/S vs own history",
    ]


def _target(bear: float, base: float, bull: float, price: float | None = 100.0) -> PriceTarget:
    return PriceTarget(
        currency="USD",
        price=price,
        bear=bear,
        base=base,
        bull=bull,
        upside=None,
        methods=[],
        period="as of 2025-02-14",
    )


@pytest.mark.parametrize(
    "rating, target, status",
    [
        ("buy", _target(90, 120, 150), "consistent"),
        ("buy", _target(60, 80, 110), "inconsistent"),  # a buy with a target below the price
        ("strong_buy", _target(60, 80, 110), "inconsistent"),
        ("sell", _target(60, 80, 110), "consistent"),
        ("sell", _target(90, 120, 150), "inconsistent"),
        ("hold", _target(90, 105, 120), "consistent"),
        ("hold", _target(110, 130, 150), "inconsistent"),
        ("not_rated", _target(90, 120, 150), "unchecked"),
        ("buy", _target(90, 120, 150, price=None), "unchecked"),
        ("accumulate!", _target(90, 120, 150), "unchecked"),
    ],
)
def test_rating_consistency(rating: str, target: PriceTarget, status: str) -> None:
    assert check_rating(rating, target).status == status


def test_rating_check_says_why(data) -> None:
    check = check_rating("buy", _target(60, 80, 110))
    assert check.reason == "a buy, but the base-case target $80.00 is not above the price $100.00"
    no_target = NotMeaningful(method="Price target", reason="no valuation method fits the company")
    assert check_rating("sell", no_target).reason == (
        "no ERT price target: no valuation method fits the company"
    )
    assert data.check_rating("buy").status == (
        "consistent" if data.valuation.target.base > 244.6 else "inconsistent"
    )


def test_stale_market_rates_are_said(aapl: CompanyData) -> None:
    later = aapl.model_copy(update={"as_of": aapl.as_of.replace(year=2026, month=12)})
    warnings = build_report_data(later, settings=DEFAULT_SETTINGS).valuation.warnings
    assert warnings == [
        "The market rates in the settings date from 2025-01-01, 712 days before the company's "
        "data: the discount rate may be out of date"
    ]
    assert build_report_data(aapl).valuation.warnings == []
