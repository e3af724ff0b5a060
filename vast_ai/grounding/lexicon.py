"""The words analysts use for metrics, and what each one names: one table, used both to
read the text and to read fact labels and raw-data keys (free text from any producer).

A metric is a concept id with the unit it is stated in. A phrase may name several
concepts ("margin" is any margin, "earnings" net income or EPS); the figure's unit and
the words next to it choose among them. Changes of a concept (growth of a money line,
percentage points of a margin) are aspects of it: see `aspect_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Unit = Literal["money", "per_share", "percent", "multiple", "number", "count"]

# Aspects of a concept: "chg" its growth in percent (or, for a ratio, its change in
# points), "diff" its change in its own unit, "cagr" its compound annual growth.
Aspect = Literal["", "chg", "diff", "cagr"]


@dataclass(frozen=True, slots=True)
class Concept:
    unit: Unit
    name: str  # as a note names it: "net margin"


# fmt: off
CONCEPTS: dict[str, Concept] = {
    # money
    "revenue": Concept("money", "revenue"),
    "gross_profit": Concept("money", "gross profit"),
    "operating_income": Concept("money", "operating income"),
    "ebitda": Concept("money", "EBITDA"),
    "net_income": Concept("money", "net income"),
    "operating_cash_flow": Concept("money", "operating cash flow"),
    "free_cash_flow": Concept("money", "free cash flow"),
    "capex": Concept("money", "capital expenditure"),
    "market_cap": Concept("money", "market capitalisation"),
    "enterprise_value": Concept("money", "enterprise value"),
    "net_debt": Concept("money", "net debt"),
    "total_debt": Concept("money", "total debt"),
    "cash": Concept("money", "cash"),
    "equity": Concept("money", "shareholders' equity"),
    "total_assets": Concept("money", "total assets"),
    "dividends_paid": Concept("money", "dividends paid"),
    "buybacks": Concept("money", "share buybacks"),
    "r_and_d": Concept("money", "R&D spending"),
    # per share
    "share_price": Concept("per_share", "share price"),
    "previous_close": Concept("per_share", "previous close"),
    "historic_close": Concept("per_share", "historic closing price"),
    "eps": Concept("per_share", "EPS"),
    "dps": Concept("per_share", "dividend per share"),
    "book_value_per_share": Concept("per_share", "book value per share"),
    "target_mean": Concept("per_share", "mean analyst target"),
    "target_median": Concept("per_share", "median analyst target"),
    "target_high": Concept("per_share", "high analyst target"),
    "target_low": Concept("per_share", "low analyst target"),
    "high_52w": Concept("per_share", "52-week high"),
    "low_52w": Concept("per_share", "52-week low"),
    "ma_50": Concept("per_share", "50-day average"),
    "ma_200": Concept("per_share", "200-day average"),
    "dcf_value": Concept("per_share", "DCF value per share"),
    "dcf_value_low": Concept("per_share", "DCF value per share (low case)"),
    "dcf_value_high": Concept("per_share", "DCF value per share (high case)"),
    "eps_estimate": Concept("per_share", "consensus EPS estimate"),
    "eps_estimate_low": Concept("per_share", "lowest EPS estimate"),
    "eps_estimate_high": Concept("per_share", "highest EPS estimate"),
    "ert_target": Concept("per_share", "ERT base-case price target"),
    "revenue_estimate": Concept("money", "consensus revenue estimate"),
    "revenue_estimate_low": Concept("money", "lowest revenue estimate"),
    "revenue_estimate_high": Concept("money", "highest revenue estimate"),
    "ert_target_bear": Concept("per_share", "ERT bear-case price target"),
    "ert_target_bull": Concept("per_share", "ERT bull-case price target"),
    # multiples
    "pe": Concept("multiple", "P/E"),
    "peg": Concept("multiple", "PEG ratio"),
    "price_to_sales": Concept("multiple", "price/sales"),
    "price_to_book": Concept("multiple", "price/book"),
    "price_to_fcf": Concept("multiple", "price/free cash flow"),
    "ev_to_ebitda": Concept("multiple", "EV/EBITDA"),
    "ev_to_revenue": Concept("multiple", "EV/revenue"),
    "ev_to_ebit": Concept("multiple", "EV/EBIT"),
    "debt_to_equity": Concept("multiple", "debt/equity"),
    "net_debt_to_ebitda": Concept("multiple", "net debt/EBITDA"),
    "current_ratio": Concept("multiple", "current ratio"),
    "quick_ratio": Concept("multiple", "quick ratio"),
    "interest_coverage": Concept("multiple", "interest coverage"),
    # percentages
    "gross_margin": Concept("percent", "gross margin"),
    "operating_margin": Concept("percent", "operating margin"),
    "net_margin": Concept("percent", "net margin"),
    "ebitda_margin": Concept("percent", "EBITDA margin"),
    "fcf_margin": Concept("percent", "free cash flow margin"),
    "fcf_yield": Concept("percent", "free cash flow yield"),
    "dividend_yield": Concept("percent", "dividend yield"),
    "earnings_yield": Concept("percent", "earnings yield"),
    "payout_ratio": Concept("percent", "payout ratio"),
    "roe": Concept("percent", "return on equity"),
    "roa": Concept("percent", "return on assets"),
    "roic": Concept("percent", "return on invested capital"),
    "roce": Concept("percent", "return on capital employed"),
    "capex_to_revenue": Concept("percent", "capital expenditure/revenue"),
    "tax_rate": Concept("percent", "tax rate"),
    "position_52w": Concept("percent", "position in the 52-week range"),
    "volatility": Concept("percent", "volatility"),
    "max_drawdown": Concept("percent", "maximum drawdown"),
    "upside": Concept("percent", "upside to the target"),
    "short_interest": Concept("percent", "short interest"),
    "insider_ownership": Concept("percent", "insider ownership"),
    "price_return": Concept("percent", "share price return"),
    "institutional_ownership": Concept("percent", "shares held by institutions"),
    "institutional_float": Concept("percent", "float held by institutions"),
    "eps_surprise": Concept("percent", "EPS surprise"),
    "wacc": Concept("percent", "discount rate (WACC)"),
    "implied_growth": Concept("percent", "cash-flow growth the price implies"),
    "forecast_growth": Concept("percent", "cash-flow growth of the DCF forecast"),
    "target_weight": Concept("percent", "weight in the ERT price target"),
    # plain numbers and counts
    "beta": Concept("number", "beta"),
    "recommendation_score": Concept("number", "recommendation score"),
    "short_ratio": Concept("number", "short ratio"),
    "analyst_count": Concept("count", "number of analysts"),
    "employees": Concept("count", "employees"),
    "shares_outstanding": Concept("count", "shares outstanding"),
    "volume": Concept("count", "trading volume"),
    "revisions_up": Concept("count", "EPS estimates raised"),
    "revisions_down": Concept("count", "EPS estimates cut"),
    "upgrades": Concept("count", "broker upgrades"),
    "downgrades": Concept("count", "broker downgrades"),
    "insider_purchases": Concept("count", "insider purchases"),
    "insider_sales": Concept("count", "insider sales"),
    "institutions": Concept("count", "institutions holding shares"),
}
# fmt: on

# The growth of a share price is its return.
CHANGE_ALIASES = {"share_price~chg": "price_return"}

# A multiple "of" a money line: 38.8x earnings is a P/E, 9.3x sales a price/sales.
MULTIPLE_OF: dict[str, tuple[str, ...]] = {
    "net_income": ("pe",),
    "eps": ("pe",),
    "revenue": ("price_to_sales", "ev_to_revenue"),
    "ebitda": ("ev_to_ebitda",),
    "operating_income": ("ev_to_ebit",),
    "equity": ("price_to_book",),
    "book_value_per_share": ("price_to_book",),
    "free_cash_flow": ("price_to_fcf",),
}

# Ratios defined by two money lines (numerator, denominator): stated "as a share of",
# or recomputed from two listed facts of one period.
RATIOS: dict[str, tuple[str, str]] = {
    "gross_margin": ("gross_profit", "revenue"),
    "operating_margin": ("operating_income", "revenue"),
    "net_margin": ("net_income", "revenue"),
    "ebitda_margin": ("ebitda", "revenue"),
    "fcf_margin": ("free_cash_flow", "revenue"),
    "capex_to_revenue": ("capex", "revenue"),
    "fcf_yield": ("free_cash_flow", "market_cap"),
    "payout_ratio": ("dividends_paid", "net_income"),
    "roe": ("net_income", "equity"),
    "roa": ("net_income", "total_assets"),
    "price_to_sales": ("market_cap", "revenue"),
    "pe": ("market_cap", "net_income"),
    "ev_to_revenue": ("enterprise_value", "revenue"),
    "ev_to_ebitda": ("enterprise_value", "ebitda"),
    "debt_to_equity": ("total_debt", "equity"),
    "net_debt_to_ebitda": ("net_debt", "ebitda"),
}

# A phrase names (concept ids, polarity): polarity -1 says the figure states a negative
# value ("net loss of £216.6m" states net income of -£216.6m).
_TARGETS = ("target_mean", "target_median", "target_high", "target_low")
_MARGINS = ("gross_margin", "operating_margin", "net_margin", "ebitda_margin", "fcf_margin")

# fmt: off
METRIC_PHRASES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("revenue|revenues|sales|net sales|total revenue|total revenues|turnover|top line|"
     "group revenue|net revenue|net revenues", ("revenue",), 1),
    ("gross profit|gross profits", ("gross_profit",), 1),
    ("gross loss", ("gross_profit",), -1),
    ("operating income|operating profit|operating profits|operating earnings|ebit|"
     "operating result", ("operating_income",), 1),
    ("operating loss|operating losses|ebit loss", ("operating_income",), -1),
    ("ebitda|adjusted ebitda|ebitda loss", ("ebitda",), 1),
    ("net income|net profit|net profits|net earnings|bottom line|profit after tax|"
     "net income to common|profit|profits|net result", ("net_income",), 1),
    ("earnings", ("net_income", "eps"), 1),
    ("net loss|net losses|loss|losses|loss after tax|pre-tax loss|pretax loss",
     ("net_income",), -1),
    ("operating cash flow|operating cashflow|operating cash flows|cash from operations|"
     "cash flow from operations|cash flows from operations|operating cash|ocf",
     ("operating_cash_flow",), 1),
    ("free cash flow|free cashflow|free cash flows|fcf|free cash", ("free_cash_flow",), 1),
    ("free cash outflow|cash burn|cash outflow|free cash burn", ("free_cash_flow",), -1),
    ("cash flow|cash flows|cashflow|cash generation",
     ("operating_cash_flow", "free_cash_flow"), 1),
    ("capex|capital expenditure|capital expenditures|capital spending|capital spend|"
     "capital investment", ("capex",), 1),
    ("market cap|market capitalisation|market capitalization|market value|mkt cap|"
     "equity value|valued at|market valuation|valuing|valuing the group at|"
     "valuing the company at|values|the market values|values it at", ("market_cap",), 1),
    ("enterprise value|ev", ("enterprise_value",), 1),
    ("net debt", ("net_debt",), 1),
    ("net cash|net cash position", ("net_debt",), -1),
    ("total debt|gross debt|borrowings|debt|debt load", ("total_debt", "net_debt"), 1),
    ("cash|cash and equivalents|cash and investments|cash pile|total cash",
     ("cash",), 1),
    ("shareholders' equity|shareholder equity|stockholders' equity|total equity|"
     "book equity|equity", ("equity",), 1),
    ("book value|book", ("equity", "book_value_per_share"), 1),
    ("book value per share|bvps", ("book_value_per_share",), 1),
    ("total assets", ("total_assets",), 1),
    ("dividends paid|dividend payments|cash dividends", ("dividends_paid",), 1),
    ("buyback|buybacks|share buybacks|share repurchases|repurchases|share buyback",
     ("buybacks",), 1),
    ("r&d|research and development", ("r_and_d",), 1),
    # per share
    ("share price|stock price|price|shares|stock|current price|regular market price|"
     "closing price|closed at|quoted at|trades at|trading at|traded at|last price|current",
     ("share_price",), 1),
    ("previous close|prior close|last close", ("previous_close",), 1),
    ("first close", ("historic_close",), 1),
    ("eps|earnings per share|diluted eps|basic eps|diluted earnings per share|"
     "trailing eps|forward eps", ("eps",), 1),
    ("loss per share|lps|diluted loss per share", ("eps",), -1),
    ("dividend per share|dividends per share|dps|dividend rate|annual dividend|"
     "dividend", ("dps", "dividend_yield", "dividends_paid"), 1),
    ("dividends", ("dps", "dividends_paid", "dividend_yield"), 1),
    ("price target|price targets|target price|target prices|target|targets|"
     "analyst target|analyst targets|target range|price objective", _TARGETS, 1),
    ("mean target|consensus target|average target|target mean|target mean price|"
     "mean price target|consensus price target|average price target|consensus",
     ("target_mean",), 1),
    ("median target|target median|median price target", ("target_median",), 1),
    ("high target|highest target|street-high target|street high|target high|"
     "target high price|top target", ("target_high",), 1),
    ("low target|lowest target|street-low target|street low|target low|"
     "target low price", ("target_low",), 1),
    ("range|trading range|ranging|ranging from|range of", (*_TARGETS, "low_52w", "high_52w",
     "dcf_value_low", "dcf_value_high", "eps_estimate_low", "eps_estimate_high",
     "revenue_estimate_low", "revenue_estimate_high", "ert_target_bear", "ert_target_bull"), 1),
    ("52-week high|52 week high|fifty two week high|52-week peak|year high", ("high_52w",), 1),
    ("52-week low|52 week low|fifty two week low|year low", ("low_52w",), 1),
    ("50-day average|50-day moving average|fifty day average|50 day average|50-day ma",
     ("ma_50",), 1),
    ("200-day average|200-day moving average|two hundred day average|200 day average|"
     "200-day ma", ("ma_200",), 1),
    # multiples
    ("p/e|pe|p/e ratio|pe ratio|price/earnings|price-to-earnings|price to earnings|"
     "price-earnings|earnings multiple|trailing pe|forward pe|p/e multiple",
     ("pe",), 1),
    ("peg|peg ratio|price/earnings-to-growth", ("peg",), 1),
    ("p/s|price/sales|price-to-sales|price to sales|sales multiple|ps ratio|"
     "price to sales trailing 12 months", ("price_to_sales",), 1),
    ("revenue multiple", ("price_to_sales", "ev_to_revenue"), 1),
    ("p/b|price/book|price-to-book|price to book|p/bv|book multiple|pb ratio",
     ("price_to_book",), 1),
    ("p/fcf|price/fcf|price to free cash flow|price/free cash flow", ("price_to_fcf",), 1),
    ("ev/ebitda|ev-to-ebitda|ev to ebitda|enterprise value to ebitda|"
     "enterprise value/ebitda|ebitda multiple|enterprise to ebitda", ("ev_to_ebitda",), 1),
    ("ev/revenue|ev/sales|ev-to-sales|ev to sales|ev-to-revenue|ev to revenue|"
     "enterprise value to revenue|enterprise value to sales|enterprise value/revenue|"
     "enterprise to revenue", ("ev_to_revenue",), 1),
    ("ev/ebit|ev-to-ebit|ev to ebit", ("ev_to_ebit",), 1),
    ("debt/equity|debt-to-equity|debt to equity|d/e|gearing", ("debt_to_equity",), 1),
    ("net debt/ebitda|net debt to ebitda|net debt-to-ebitda|leverage ratio",
     ("net_debt_to_ebitda",), 1),
    ("leverage", ("debt_to_equity", "net_debt_to_ebitda"), 1),
    ("current ratio", ("current_ratio",), 1),
    ("quick ratio|acid test", ("quick_ratio",), 1),
    ("interest coverage|interest cover|times interest earned", ("interest_coverage",), 1),
    # percentages
    ("gross margin|gross margins|gross profit margin", ("gross_margin",), 1),
    ("operating margin|operating margins|ebit margin|operating profit margin",
     ("operating_margin",), 1),
    ("net margin|net margins|net profit margin|profit margin|profit margins|"
     "net income margin", ("net_margin",), 1),
    ("ebitda margin|ebitda margins", ("ebitda_margin",), 1),
    ("fcf margin|free cash flow margin|free-cash-flow margin|fcf margins",
     ("fcf_margin",), 1),
    ("margin|margins", _MARGINS, 1),
    ("fcf yield|free cash flow yield|free-cash-flow yield", ("fcf_yield",), 1),
    ("dividend yield|yield|yields|yielding", ("dividend_yield", "fcf_yield",
                                              "earnings_yield"), 1),
    ("dividend yield", ("dividend_yield",), 1),
    ("earnings yield", ("earnings_yield",), 1),
    ("payout ratio|payout|dividend payout|pay-out ratio", ("payout_ratio",), 1),
    ("roe|return on equity|return on shareholders' equity|return on average equity",
     ("roe",), 1),
    ("roa|return on assets|return on average assets", ("roa",), 1),
    ("roic|return on invested capital|return on capital", ("roic",), 1),
    ("roce|return on capital employed", ("roce",), 1),
    ("capex/revenue|capex to revenue|capex-to-sales|capex to sales|capex intensity|"
     "capital intensity|capital expenditure/revenue|capex/sales",
     ("capex_to_revenue",), 1),
    ("tax rate|effective tax rate", ("tax_rate",), 1),
    ("52-week range|52 week range|position in 52-week range|fifty two week range",
     ("position_52w",), 1),
    ("volatility|annualised volatility|annualized volatility", ("volatility",), 1),
    ("drawdown|maximum drawdown|max drawdown|peak-to-trough decline|peak to trough|"
     "from the peak|from its peak|from their peak|below the peak|below its peak|"
     "below their peak|off the peak|off its peak|off their peak",
     ("max_drawdown",), -1),
    ("upside|implied upside|potential upside|upside to mean target|upside potential|"
     "above the current price|above the share price|above the last price|above the price|"
     "above current levels|above today's price", ("upside",), 1),
    ("downside|implied downside|below the current price|below the share price|"
     "below the last price|below current levels", ("upside",), -1),
    ("short interest|short percent of float", ("short_interest",), 1),
    ("insider ownership|held percent insiders|insider stake", ("insider_ownership",), 1),
    ("price return|share price return|total return|total shareholder return|tsr|"
     "share price performance|stock performance|52 week change", ("price_return",), 1),
    # plain numbers and counts
    ("beta", ("beta",), 1),
    ("recommendation score|recommendation mean|consensus rating|mean recommendation|"
     "rating score|average rating|recommendation", ("recommendation_score",), 1),
    ("short ratio|days to cover", ("short_ratio",), 1),
    ("analysts|analyst|number of analysts|brokers|analyst opinions|"
     "number of analyst opinions|covering analysts|analysts covering",
     ("analyst_count",), 1),
    ("employees|staff|headcount|workforce|people|full time employees|employee",
     ("employees",), 1),
    ("shares outstanding|share count|diluted shares|shares in issue|float shares",
     ("shares_outstanding",), 1),
    ("volume|average volume|trading volume", ("volume",), 1),
    # the valuation, estimates and ownership facts of the dashboard's report data
    ("dcf value|dcf value per share|dcf fair value|intrinsic value|discounted cash flow value|"
     "dcf valuation", ("dcf_value",), 1),
    ("eps estimate|eps estimates|consensus eps|consensus eps estimate|eps consensus|"
     "estimated eps|expected eps|eps forecast|forward eps estimate", ("eps_estimate",), 1),
    ("ert price target|ert's price target|ert target|ert's target|base case target|"
     "base case price target|ert's base case price target|ert base case target",
     ("ert_target",), 1),
    ("bear case price target|bear case target|ert's bear case price target",
     ("ert_target_bear",), 1),
    ("bull case price target|bull case target|ert's bull case price target",
     ("ert_target_bull",), 1),
    ("revenue estimate|revenue estimates|consensus revenue|consensus revenue estimate|"
     "revenue consensus|revenue forecast|expected revenue|estimated revenue",
     ("revenue_estimate",), 1),
    # words that name whose shares, not a price: "2.3% of the shares", "institutions hold the
    # shares, owning 62.7% of them"
    ("of the shares|of its shares|of the company's shares|hold the shares|hold shares|"
     "holding shares|held shares|of shares outstanding", (), 1),
    ("eps estimates raised|estimates raised|upward revisions|upward revision|revisions up|"
     "raised estimates", ("revisions_up",), 1),
    ("eps estimates cut|estimates cut|downward revisions|downward revision|revisions down|"
     "cut estimates|lowered estimates", ("revisions_down",), 1),
    ("broker upgrades|rating upgrades|upgrades|upgrade", ("upgrades",), 1),
    ("broker downgrades|rating downgrades|downgrades|downgrade", ("downgrades",), 1),
    ("insider purchases|insider buys|insider buying|insider purchase", ("insider_purchases",), 1),
    ("insider sales|insider sells|insider selling|insider sale", ("insider_sales",), 1),
    ("institutions|institutional holders|institutions holding shares|institutional investors",
     ("institutions", "institutional_ownership"), 1),
    ("shares held by institutions|institutional ownership|held by institutions|"
     "owned by institutions", ("institutional_ownership",), 1),
    ("float held by institutions|of the float|institutional ownership of the float",
     ("institutional_float",), 1),
    ("shares held by insiders|held by insiders|insiders|owned by insiders",
     ("insider_ownership",), 1),
    ("eps surprise|earnings surprise|surprise|beat the consensus by|beat consensus by",
     ("eps_surprise",), 1),
    ("wacc|discount rate|cost of capital|weighted average cost of capital", ("wacc",), 1),
    ("price implies|implied growth|price implies cash flow growth|"
     "implies cash flow growth|implied cash flow growth|cash flow growth a year the price implies|"
     "growth the price implies|reverse dcf", ("implied_growth",), 1),
    ("dcf forecast|average cash flow growth of the dcf forecast|growth in the dcf forecast",
     ("forecast_growth",), 1),
    ("weight|weighting|weight of", ("target_weight",), 1),
)
# fmt: on


def phrases(alternatives: str) -> tuple[str, ...]:
    """A table of phrases written as "a|b|c"."""
    return tuple(alternatives.split("|"))


# Words near a figure that say it is a change and which way ("fell 2.1%", "a 2.1% decline").
RISE_WORDS = phrases(
    "grew|grow|grows|growing|rose|rise|rises|rising|risen|increased|increase|increases|"
    "up|gained|gain|gains|higher|climbed|climb|jumped|jump|expanded|expand|expansion|"
    "improved|improve|improvement|advanced|surged|soared|rallied|added|widened|"
    "accelerated|boosted|outperformed|appreciated"
)
FALL_WORDS = phrases(
    "fell|fall|falls|falling|fallen|declined|decline|declines|declining|decreased|"
    "decrease|decreases|down|dropped|drop|drops|lower|slipped|slip|slid|shrank|shrink|"
    "shrunk|contracted|contract|contraction|eased|lost|plunged|plunge|slumped|slump|"
    "tumbled|sank|retreated|deteriorated|narrowed|compressed|compression|eroded|erosion|"
    "underperformed|depreciated|reduction|cut"
)
GROWTH_WORDS = phrases(
    "growth|change|changes|changed|yoy|y/y|year on year|year-on-year|year over year|"
    "year-over-year|annual growth|grew|rose|fell|declined|swing|swung"
)
CAGR_WORDS = phrases(
    "cagr|compound annual growth|compound annual growth rate|compounded|annualised growth"
)
NEGATIVE_WORDS = phrases(
    "negative|minus|in the red|deficit|loss-making|lossmaking|outflow|outflows|burn|"
    "burned|burnt|burning|shortfall"
)

# Words before a figure that say how near the truth it is meant to be.
HEDGES: dict[str, str] = {
    "about": "approx",
    "around": "approx",
    "approximately": "approx",
    "approx": "approx",
    "approx.": "approx",
    "roughly": "approx",
    "some": "approx",
    "circa": "approx",
    "c.": "approx",
    "c": "approx",
    "ca.": "approx",
    "~": "approx",
    "≈": "approx",
    "close to": "approx",
    "in the region of": "approx",
    "of the order of": "approx",
    "nearly": "under",
    "almost": "under",
    "just under": "under",
    "just below": "under",
    "slightly under": "under",
    "slightly below": "under",
    "a little under": "under",
    "a shade under": "under",
    "shy of": "under",
    "just shy of": "under",
    "not quite": "under",
    "just over": "over",
    "just above": "over",
    "slightly over": "over",
    "slightly above": "over",
    "a little over": "over",
    "a shade over": "over",
    "more than": "above",
    "over": "above",
    "above": "above",
    "in excess of": "above",
    "north of": "above",
    "upwards of": "above",
    "at least": "above",
    "better than": "above",
    "exceeding": "above",
    "less than": "below",
    "under": "below",
    "below": "below",
    "at most": "below",
    "up to": "below",
    "no more than": "below",
    "south of": "below",
    "fewer than": "below",
}
# How far from the stated value each hedge lets the truth be, as a share of the value:
# (below, above). The precision shown is added to both.
HEDGE_BOUNDS: dict[str, tuple[float, float]] = {
    "exact": (0.0, 0.0),
    "approx": (0.03, 0.03),
    "under": (0.05, 0.0),
    "over": (0.0, 0.05),
    "above": (0.0, 0.25),
    "below": (0.25, 0.0),
}

# Whose figure it is: a comparison group rather than the company itself.
OTHER_SUBJECT_WORDS = phrases(
    "peers|peer|peer group|peer median|peer average|peer-group|sector median|"
    "sector average|industry average|industry median|competitors|competitor|rivals|rival|"
    "sector's|industry's|the sector|the industry|market average|index average|"
    "comparables|comps"
)
OWN_SUBJECT_WORDS = phrases(
    "the company|the group|the firm|the business|its|the stock's|the company's"
)

# Words that pick one of a family of extremes: "the high target", "a low of 270p".
REFINERS: dict[str, str] = {
    **dict.fromkeys(("high", "highest", "top", "bull", "peak"), "high"),
    **dict.fromkeys(("low", "lowest", "bottom", "bear", "trough"), "low"),
    **dict.fromkeys(("mean", "average", "consensus"), "mean"),
    "median": "median",
}
FAMILIES: tuple[dict[str, str], ...] = (
    {"high": "target_high", "low": "target_low", "mean": "target_mean", "median": "target_median"},
    {"high": "high_52w", "low": "low_52w"},
    {"high": "dcf_value_high", "low": "dcf_value_low", "mean": "dcf_value"},
    {"high": "eps_estimate_high", "low": "eps_estimate_low", "mean": "eps_estimate"},
    {"high": "revenue_estimate_high", "low": "revenue_estimate_low", "mean": "revenue_estimate"},
    {"high": "ert_target_bull", "low": "ert_target_bear", "mean": "ert_target"},
)


def refined(concepts: Iterable[str], refiner: str) -> str | None:
    """The member of the family `concepts` belong to that a refining word picks."""
    wanted = set(concepts)
    for family in FAMILIES:
        if wanted and wanted <= set(family.values()):
            return family.get(refiner)
    return None


# Extremes whose range ("targets of $197–$325", "a 52-week range of 164–260") states
# the low and the high, not an estimate somewhere between.
EXTREMES = tuple(frozenset(family.values()) for family in FAMILIES)
# Percentages that are changes already: a fall or rise word gives their sign.
CHANGES = frozenset(
    {"price_return", "upside", "max_drawdown", "eps_surprise", "implied_growth", "forecast_growth"}
)


def lowered(text: str) -> str:
    """The text in lower case with straight apostrophes, each character where it was
    (offsets into it are offsets into the text), for the case-blind matchers here."""
    low = text.lower().replace("’", "'")
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text).replace("’", "'")


@lru_cache(maxsize=8192)
def normalise(phrase: str) -> str:
    """Lower case, one space between words (hyphens and line breaks count as spaces)."""
    return re.sub(r"[\s\-]+", " ", lowered(phrase)).strip()


def trie_pattern(phrases: Iterable[str]) -> str:
    """One regex alternation for many phrases, factored as a trie so that the engine
    rejects most positions on their first character. A space in a phrase matches any
    run of spaces and hyphens; longer phrases are tried first."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrases:
        node = trie
        for char in normalise(phrase):
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = []
        optional = "" in node
        for char in sorted(k for k in node if k):
            head = r"[\s\-]+" if char == " " else re.escape(char)
            branches.append(head + emit(node[char]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if optional else body

    return emit(trie)


@dataclass(frozen=True, slots=True)
class MetricWords:
    concepts: tuple[str, ...]
    polarity: int


def _metric_table() -> dict[str, MetricWords]:
    table: dict[str, MetricWords] = {}
    for alternatives, concepts, polarity in METRIC_PHRASES:
        for phrase in alternatives.split("|"):
            key = normalise(phrase)
            # A phrase listed again with fewer concepts is the more precise reading.
            if key not in table or len(concepts) < len(table[key].concepts):
                table[key] = MetricWords(concepts, polarity)
    return table


METRIC_WORDS = _metric_table()


def words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A matcher of whole words and phrases in `lowered` text (case-blind that way:
    a case-sensitive trie runs faster than a case-insensitive one)."""
    return re.compile(r"(?<![a-z0-9&])(?:" + trie_pattern(words) + r")(?![a-z0-9&])")


METRIC_SCAN = words_pattern(METRIC_WORDS)


@lru_cache(maxsize=1024)
def concept_unit(concept: str) -> Unit:
    """The unit a concept, or an aspect of it, is stated in."""
    base, _, aspect = concept.partition("~")
    if aspect == "diff":
        return CONCEPTS[base].unit
    if aspect:
        return "percent"
    return CONCEPTS[concept].unit


def concept_name(concept: str) -> str:
    """How a note names a concept: "net margin", "revenue growth"."""
    if concept.startswith("ratio:"):
        top, _, bottom = concept.removeprefix("ratio:").partition("/")
        return f"{concept_name(top)} to {concept_name(bottom)}"
    base, _, aspect = concept.partition("~")
    if base not in CONCEPTS:
        return base.split(":", 2)[-1] if base.startswith(FACT) else base.removeprefix("label:")
    name = CONCEPTS[base].name
    if aspect == "cagr":
        return f"{name} CAGR"
    if aspect == "diff" or (aspect == "chg" and CONCEPTS[base].unit == "percent"):
        return f"change in {name}"
    if aspect == "chg":
        return f"{name} growth"
    return name


FACT = "fact:"  # one fact sheet label, as written: "fact:per_share:dcf value per share"

# The units of known values a figure of each kind may state.
UNITS_FOR_KIND: dict[str, tuple[Unit, ...]] = {
    "percent": ("percent",),
    "multiple": ("multiple",),
    "money": ("money", "per_share"),
    "per_share": ("per_share", "money"),
    "number": ("number", "count"),
}


def fact_concept(label: str, unit: Unit) -> str:
    """The concept a fact's own label names: the text that writes the label states
    that fact (whatever the lexicon reads in its words)."""
    return f"{FACT}{unit}:{normalise(label)}"


def fact_unit(concept: str) -> Unit:
    """The unit of a fact_concept."""
    return concept.split(":", 2)[1]  # type: ignore[return-value]


def aspect_of(concept: str, aspect: Aspect) -> str:
    """The id of an aspect of a concept: its growth, its change in points or money, its
    CAGR ("revenue~chg", "gross_margin~chg", "revenue~diff", "revenue~cagr")."""
    if not aspect:
        return concept
    changed = f"{concept}~{aspect}"
    return CHANGE_ALIASES.get(changed, changed)
