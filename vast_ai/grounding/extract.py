"""Find the figures in a section's Markdown: money, percentages, multiples, per-share
amounts and plain numbers, with their character offsets and display precision.

Numbers that are not claims about the company (years, dates, quarter names, list
and heading numbering, "Table 2", footnote references, link targets, URLs, form and
index names) are left out. One compiled regex scans the text once: the things to
leave out are alternatives tried before a figure at each position, so their digits
are consumed.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

FigureKind = Literal["money", "percent", "multiple", "per_share", "number"]

# Symbols and words that name a currency, and the ISO codes each may stand for.
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN"})
_KRONER = frozenset({"DKK", "SEK", "NOK", "ISK"})
_CURRENCY_SYMBOLS: dict[str, frozenset[str]] = {
    "$": _DOLLARS,
    "US$": frozenset({"USD"}),
    "C$": frozenset({"CAD"}),
    "CA$": frozenset({"CAD"}),
    "A$": frozenset({"AUD"}),
    "AU$": frozenset({"AUD"}),
    "NZ$": frozenset({"NZD"}),
    "HK$": frozenset({"HKD"}),
    "S$": frozenset({"SGD"}),
    "NT$": frozenset({"TWD"}),
    "R$": frozenset({"BRL"}),
    "£": frozenset({"GBP"}),
    "€": frozenset({"EUR"}),
    "¥": frozenset({"JPY", "CNY"}),
    "CN¥": frozenset({"CNY"}),
    "RMB": frozenset({"CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "Rp": frozenset({"IDR"}),
    "kr": _KRONER,
    "Fr.": frozenset({"CHF"}),
}
_ISO_CODES = [
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "CNY",
    "HKD",
    "DKK",
    "SEK",
    "NOK",
    "ISK",
    "CHF",
    "CAD",
    "AUD",
    "NZD",
    "INR",
    "IDR",
    "KRW",
    "TWD",
    "SGD",
    "BRL",
    "MXN",
    "ZAR",
]

_SCALES: dict[str, float] = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trillion": 1e12,
}

_BASIS_POINT = 0.01  # in percent points
_SP = r"[ \u00a0\u202f]"  # a space inside one line (never a newline)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_CURRENCY_PREFIX = _alternation([*_CURRENCY_SYMBOLS, *_ISO_CODES])
_CURRENCY_SUFFIX = _alternation(["kr", *_ISO_CODES])

# Left out wherever they start, even glued to a word ("text[^1]", "[a](url)").
_SKIP_ANYWHERE = rf"""
    \[\^[^\]\s]+\]:?                                              # [^1] footnotes
  | \[\d+\]                                                       # [3] citations
  | \]\([^)\s]*(?:{_SP}+"[^"\n]*")?\)                             # ](link target "title")
  | </?[A-Za-z][^>\n]*>                                           # HTML tags
  | (?:https?://|www\.)\S+                                        # bare URLs
"""
# Left out where a word starts.
_SKIP_AT_WORD_START = rf"""
    (?:19|20)\d\d-\d\d?-\d\d?\b                                  # 2025-03-01
  | \d\d?[/.]\d\d?[/.](?:\d\d\d\d|\d\d)\b                          # 3/1/2025, 01.03.2025
  | {_MONTH}\.?{_SP}+\d\d?(?:st|nd|rd|th)?\b(?:,?{_SP}+\d{{4}})?     # March 1, 2025
  | \d\d?(?:st|nd|rd|th)?{_SP}+{_MONTH}\b\.?(?:,?{_SP}+\d{{4}})?     # 1 March 2025
  | (?:19|20)\d\d[-–/](?:(?:19|20)\d\d|\d\d)\b                   # 2024-25, 2023–2024
  | \d\d?:\d\d(?::\d\d)?\b                                        # 10:30
  | ^[ \t]*\#{{1,6}}[ \t]+\d+(?:\.\d+)*\.?(?=\s)                  # ## 2. Valuation
  | ^[ \t]*(?:>[ \t]*)*\d{{1,9}}[.)](?=[ \t]|$)                   # 1. list marker
  | (?:Section|Part|Table|Figure|Chart|Exhibit|Note|Appendix){_SP}+\d+(?:\.\d+)*\b  # Table 2
  | (?i:(?:10-[KQ]|8-K|20-F|S&P{_SP}?500|Russell{_SP}?[123]000|FTSE{_SP}?(?:100|250)
        |Nasdaq(?:-|{_SP})?100|(?:DAX|CAC){_SP}?40|Nikkei{_SP}?225
        |(?:Euro{_SP}?)?Stoxx{_SP}?(?:50|600))\b)          # filings and index names
"""

_FIGURE = rf"""
    (?<![\w.,'’#])(?<![A-Za-z][-–])         # not glued to a word: Q3, FY2024, COVID-19, #1
    (?P<open>\()?
    (?P<sign>[-−+])?
    (?:(?P<cur>{_CURRENCY_PREFIX}){_SP}?)?
    (?P<sign2>[-−])?
    (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:
        {_SP}?(?P<scale_word>thousand|million|billion|trillion|bn|mn|tn)\b
      | (?P<scale_letter>mm|MM|[kKmMbBT])(?![A-Za-z0-9])
    )?
    (?:
        (?P<pct>{_SP}?%|{_SP}(?:percent|per{_SP}?cent|percentage{_SP}points?)\b|{_SP}?pp\b)
      | (?P<bps>{_SP}?bps?\b|{_SP}basis{_SP}points?\b)
      | (?P<mult>[xX](?![A-Za-z0-9])|{_SP}?×|{_SP}times\b)
    )?
    (?:{_SP}?(?P<cur2>{_CURRENCY_SUFFIX})\b)?
    (?(open)\))
    (?![A-Za-z0-9]|[.,]\d|-[A-Za-z])        # not 3Q24, 1st, 1.2.3, 10-K
"""

# Most positions are inside words or far from a digit: the two guards fail there
# at once, which keeps the scan of a 3,000-word report to a few milliseconds.
_SCAN = re.compile(
    rf"""{_SKIP_ANYWHERE}
      | (?<![A-Za-z0-9]) (?=[^\d\n]{{0,12}}+\d)
        (?: {_SKIP_AT_WORD_START} | (?P<figure>{_FIGURE}) )""",
    re.VERBOSE | re.MULTILINE,
)
_RANGE_GAP = re.compile(rf"{_SP}*(?:[-–—]|to){_SP}*")
_PER_SHARE_AFTER = re.compile(rf"{_SP}*(?:per|/|a){_SP}*(?:(?:diluted|basic){_SP}+)?share\b")
_PER_SHARE_BEFORE = re.compile(r"(?:\bEPS|\bper[\s-]share)\b[^.\n\d$€£¥]{0,30}$", re.IGNORECASE)
_LOOKBEHIND = 40


class Figure(NamedTuple):
    """A figure as written: its span in the text, value and what it claims to be.

    `value` is in the unit the text shows: percent points for percentages, the full
    amount for money (scale applied). `tolerance` is half a unit in the last place
    shown. `signed` means the text states the sign (a minus, a plus or accounting
    parentheses), so the sign must match too. `said_per_share` means the words around
    it ("EPS of", "per share") say it is an amount per share.
    """

    text: str
    start: int
    end: int
    value: float
    tolerance: float
    currencies: frozenset[str] | None
    signed: bool
    scale: float = 1.0
    unit_suffix: Literal["percent", "multiple"] | None = None
    said_per_share: bool = False

    @property
    def kind(self) -> FigureKind:
        if self.unit_suffix is not None:
            return self.unit_suffix
        if self.currencies is not None and self.scale == 1.0 and self.said_per_share:
            return "per_share"
        if self.currencies is not None or self.scale != 1.0:
            return "money"
        return "number"


def _currencies(symbol: str | None) -> frozenset[str] | None:
    if symbol is None:
        return None
    return _CURRENCY_SYMBOLS.get(symbol, frozenset({symbol.upper()}))


def _in_table_row(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return text[line_start:pos].lstrip().startswith("|")


def _said_per_share(text: str, start: int, end: int) -> bool:
    return bool(
        _PER_SHARE_AFTER.match(text, end)
        or _PER_SHARE_BEFORE.search(text, max(0, start - _LOOKBEHIND), start)
    )


def _figure(match: re.Match[str], text: str) -> Figure | None:
    number = match["num"]
    scale_name = (match["scale_word"] or match["scale_letter"] or "").lower()
    scale = _BASIS_POINT if match["bps"] else _SCALES.get(scale_name, 1.0)
    unit_suffix: Literal["percent", "multiple"] | None = (
        "percent" if match["pct"] or match["bps"] else "multiple" if match["mult"] else None
    )
    currency = match["cur"] or match["cur2"]
    minus = match["sign"] in ("-", "−") or match["sign2"] is not None
    is_plain = not (currency or scale_name or unit_suffix or match["sign"] or match["sign2"])
    if is_plain and "," not in number and "." not in number and 1900 <= int(number) <= 2100:
        return None  # a year
    parenthesised = bool(match["open"])
    if parenthesised and not (currency or scale_name or _in_table_row(text, match.start())):
        # "(24.3%)" in prose is an aside, not an accounting negative: leave the bracket out.
        return None
    decimals = len(number.partition(".")[2])
    magnitude = float(number.replace(",", "")) * scale
    negative = minus or parenthesised
    start, end = match.span()
    return Figure(
        text=match.group("figure"),
        start=start,
        end=end,
        value=-magnitude if negative else magnitude,
        tolerance=0.5 * 10.0**-decimals * scale,
        currencies=_currencies(currency),
        signed=negative or bool(match["sign"]),
        scale=scale,
        unit_suffix=unit_suffix,
        said_per_share=bool(currency) and _said_per_share(text, start, end),
    )


def _unbracketed(match: re.Match[str], text: str) -> re.Match[str] | None:
    """Re-scan a prose "(figure)" without its brackets."""
    inner = _SCAN.match(text, match.start() + 1, match.end() - 1)
    return inner if inner is not None and inner["figure"] else None


def _join_ranges(figures: list[Figure], text: str) -> list[Figure]:
    """In "10–12%", "$10–12 billion" or "$10 to 12" each end takes the unit, scale
    and currency the other end states."""
    joined = list(figures)
    for i in range(len(joined) - 1):
        first, second = joined[i], joined[i + 1]
        if not _RANGE_GAP.fullmatch(text, first.end, second.start):
            continue
        if first.unit_suffix is None and first.scale == 1.0:
            first = first._replace(
                value=first.value * second.scale,
                tolerance=first.tolerance * second.scale,
                scale=second.scale,
                unit_suffix=second.unit_suffix,
            )
        joined[i] = first._replace(currencies=first.currencies or second.currencies)
        joined[i + 1] = second._replace(currencies=second.currencies or first.currencies)
    return joined


def extract_figures(text: str) -> list[Figure]:
    """Every figure in `text`, in order, with offsets into `text`."""
    figures: list[Figure] = []
    for match in _SCAN.finditer(text):
        if match["figure"] is None:
            continue  # something left out
        fig = _figure(match, text)
        if fig is None and match["open"]:
            inner = _unbracketed(match, text)
            fig = _figure(inner, text) if inner is not None else None
        if fig is not None:
            figures.append(fig)
    return _join_ranges(figures, text)
