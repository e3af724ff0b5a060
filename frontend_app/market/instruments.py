"""What a symbol says about itself when Yahoo cannot be asked: funds, indices, currencies
and crypto are refused offline as they are online (by Yahoo's quoteType).

Two sources, both certain enough to refuse on:
- Yahoo's symbol conventions: `^GSPC` is an index, `EURUSD=X` a currency, `GC=F` a
  futures contract, `BTC-USD` a cryptocurrency, and a five-letter US symbol ending in X
  (`VFIAX`) a mutual fund (NASDAQ keeps that fifth letter for funds).
- The funds people try most: the largest exchange-traded funds, by name, so that
  "SPY" or "s&p 500" offline gets "an ETF" rather than "cannot check".
Anything else is not known offline; the caller says so instead of guessing.
"""

from __future__ import annotations

import re

# Quote currencies of Yahoo's crypto pairs (BTC-USD, ETH-EUR, ...); share classes use
# single letters (BRK-B), so a currency code after the dash is a pair.
_CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|EUR|GBP|JPY|CAD|AUD|CHF|CNY|INR|KRW|BTC|ETH)$")
_US_MUTUAL_FUND = re.compile(r"^[A-Z]{4}X$")

# Symbol, name: the best-known exchange-traded funds (Yahoo's quoteType ETF).
WELL_KNOWN_ETFS: dict[str, str] = {
    "SPY": "SPDR S&P 500 ETF Trust",
    "IVV": "iShares Core S&P 500 ETF",
    "VOO": "Vanguard S&P 500 ETF",
    "VTI": "Vanguard Total Stock Market ETF",
    "QQQ": "Invesco QQQ Trust",
    "QQQM": "Invesco NASDAQ 100 ETF",
    "TQQQ": "ProShares UltraPro QQQ",
    "SQQQ": "ProShares UltraPro Short QQQ",
    "DIA": "SPDR Dow Jones Industrial Average ETF Trust",
    "IWM": "iShares Russell 2000 ETF",
    "RSP": "Invesco S&P 500 Equal Weight ETF",
    "VUG": "Vanguard Growth ETF",
    "VTV": "Vanguard Value ETF",
    "VIG": "Vanguard Dividend Appreciation ETF",
    "VYM": "Vanguard High Dividend Yield ETF",
    "SCHD": "Schwab U.S. Dividend Equity ETF",
    "VEA": "Vanguard FTSE Developed Markets ETF",
    "VWO": "Vanguard FTSE Emerging Markets ETF",
    "VXUS": "Vanguard Total International Stock ETF",
    "IEFA": "iShares Core MSCI EAFE ETF",
    "IEMG": "iShares Core MSCI Emerging Markets ETF",
    "EFA": "iShares MSCI EAFE ETF",
    "EEM": "iShares MSCI Emerging Markets ETF",
    "VGT": "Vanguard Information Technology ETF",
    "XLK": "Technology Select Sector SPDR Fund",
    "XLF": "Financial Select Sector SPDR Fund",
    "XLE": "Energy Select Sector SPDR Fund",
    "XLV": "Health Care Select Sector SPDR Fund",
    "SMH": "VanEck Semiconductor ETF",
    "ARKK": "ARK Innovation ETF",
    "BND": "Vanguard Total Bond Market ETF",
    "AGG": "iShares Core U.S. Aggregate Bond ETF",
    "TLT": "iShares 20+ Year Treasury Bond ETF",
    "HYG": "iShares iBoxx $ High Yield Corporate Bond ETF",
    "LQD": "iShares iBoxx $ Investment Grade Corporate Bond ETF",
    "GLD": "SPDR Gold Shares",
    "SLV": "iShares Silver Trust",
    "IBIT": "iShares Bitcoin Trust ETF",
}


def quote_type_by_convention(ticker: str) -> str | None:
    """The quoteType a symbol's form or fame makes certain (as Yahoo names them), or None."""
    if ticker.startswith("^"):
        return "INDEX"
    if ticker.endswith("=X"):
        return "CURRENCY"
    if ticker.endswith("=F"):
        return "FUTURE"
    if _CRYPTO_PAIR.match(ticker):
        return "CRYPTOCURRENCY"
    if _US_MUTUAL_FUND.match(ticker):
        return "MUTUALFUND"
    if ticker in WELL_KNOWN_ETFS:
        return "ETF"
    return None
