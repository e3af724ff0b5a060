"""Where a method does not fit, it says "not meaningful" and why, instead of a number."""

from __future__ import annotations

from frontend_app.analysis import DEFAULT_SETTINGS, build_report_data
from frontend_app.analysis.dcf import dcf_setup, financial_company
from frontend_app.analysis.results import NotMeaningful
from frontend_app.market import CompanyData
from frontend_app.market.research import ResearchData
from frontend_app.market.snapshots import SnapshotSource


def reasons(data) -> dict[str, str]:
    return {item.method: item.reason for item in data.valuation.not_meaningful}


def bank_like(aapl: CompanyData, industry: str | None = None) -> CompanyData:
    """AAPL's numbers on a lender's balance sheet: no current/non-current split,
    liabilities 92% of assets."""
    statements = dict(aapl.statements)
    for name in ("balance_quarterly", "balance_annual"):
        balance = statements[name]
        items = {k: v for k, v in balance.items.items() if not k.startswith("Current")}
        items["TotalLiabilitiesNetMinorityInterest"] = [
            None if a is None else 0.92 * a for a in items["TotalAssets"]
        ]
        statements[name] = balance.model_copy(update={"items": items})
    profile = aapl.profile.model_copy(update={"industry": industry or aapl.profile.industry})
    return aapl.model_copy(update={"statements": statements, "profile": profile})


def test_a_loss_maker_gets_no_dcf_and_no_pe_but_a_sales_multiple(
    companies: SnapshotSource,
) -> None:
    bfly = companies.fetch("BFLY")
    data = build_report_data(bfly, [companies.fetch("ABBV"), companies.fetch("CRON")])
    why = reasons(data)
    assert why["Discounted cash flow"] == (
        "free cash flow is negative (TTM (Yahoo Finance): -$27.35M)"
    )
    assert why["Reverse DCF"] == why["Discounted cash flow"]
    assert why["P/E vs peers"] == "earnings per share are negative (-0.47)"
    assert why["EV/EBITDA vs peers"] == "EBITDA is negative or not reported"
    assert why["P/S vs own history"] == "no annual statements"
    sales = next(m for m in data.valuation.peers if not isinstance(m, NotMeaningful))
    assert sales.method == "P/S vs peers"
    assert data.valuation.target.base > 0  # type: ignore[union-attr]
    assert "dcf_value_per_share" not in {f.key for f in data.facts}
    table = next(t for t in data.tables if t.key == "not_meaningful")
    assert ["Discounted cash flow", why["Discounted cash flow"]] in [
        [row.label, *row.cells] for row in table.rows
    ]


def test_a_bank_by_its_industry_gets_no_dcf_and_no_ev_multiple(aapl: CompanyData) -> None:
    bank = aapl.model_copy(
        update={"profile": aapl.profile.model_copy(update={"industry": "Banks - Regional"})}
    )
    data = build_report_data(bank, [SnapshotSource().fetch("CRM")])
    why = reasons(data)
    assert why["Discounted cash flow"].startswith(
        "not meaningful for banks and insurers (the company is a Banks - Regional business)"
    )
    assert why["EV/EBITDA vs peers"].startswith("EV/EBITDA does not fit banks and insurers")
    assert "P/E vs peers" not in why  # earnings multiples still fit a bank


def test_a_bank_like_balance_sheet_is_recognised_whatever_the_industry(
    aapl: CompanyData,
) -> None:
    bank = bank_like(aapl)
    assert financial_company(bank) == (
        "its balance sheet is a lender's: liabilities are 92.0% of assets, with no "
        "current/non-current split"
    )
    result = dcf_setup(bank, DEFAULT_SETTINGS)
    assert isinstance(result, NotMeaningful)
    assert "banks and insurers" in result.reason
    assert financial_company(aapl) is None  # Apple itself is not a lender


def test_no_estimates_means_no_dcf(aapl: CompanyData) -> None:
    research = aapl.research.model_copy(update={"estimates": []})
    data = build_report_data(aapl.model_copy(update={"research": research}))
    assert reasons(data)["Discounted cash flow"] == (
        "no analysts' revenue estimates for the coming fiscal years"
    )
    assert not [t for t in data.tables if t.key in ("estimates", "revisions")]


def test_prices_and_statements_in_two_currencies_are_never_mixed(
    companies: SnapshotSource,
) -> None:
    data = build_report_data(companies.fetch("BABA"), [companies.fetch("ABBV")])
    why = reasons(data)
    assert set(why.values()) == {
        "prices are in USD but financials in CNY",
        "no valuation method fits the company",
    }
    assert why["Price target"] == "no valuation method fits the company"
    check = data.check_rating("buy")
    assert (check.status, check.reason) == (
        "unchecked",
        "no ERT price target: no valuation method fits the company",
    )


def test_negative_equity_and_no_statements_still_give_results(
    aapl: CompanyData, companies: SnapshotSource
) -> None:
    statements = dict(aapl.statements)
    balance = statements["balance_quarterly"]
    items = dict(balance.items)
    items["StockholdersEquity"] = [-5e9, *items["StockholdersEquity"][1:]]
    statements["balance_quarterly"] = balance.model_copy(update={"items": items})
    negative = aapl.model_copy(update={"statements": statements})
    data = build_report_data(negative)
    assert data.metrics["price_to_book"].reason == "not meaningful: book value is negative"
    assert data.valuation.dcf.value_per_share > 0  # type: ignore[union-attr]

    bare = aapl.model_copy(update={"statements": {}, "research": ResearchData(), "prices": None})
    data = build_report_data(bare, [companies.fetch("CRM")])
    why = reasons(data)
    assert (
        why["Discounted cash flow"] == "no analysts' revenue estimates for the coming fiscal years"
    )
    assert why["P/E vs own history"] == "no annual statements"
    assert data.valuation.target.base > 0  # type: ignore[union-attr]  # peers still value it
    assert data.estimates.tables == [] and data.estimates.facts == []
    sources = {s.group: s.period for s in data.sources}
    assert sources["Income statement"] == "not available: none sent"
