"""Find the figures in a section's Markdown: money, percentages, multiples, per-share
amounts and plain numbers, with their character offsets and display precision.

Numbers that are not claims about the company are left out: years, dates, times of
day, period codes (Q3, 4Q24, H1 2025, 9M 2024), durations ("52 weeks", "3-year"),
list and heading numbering, footnote marks, link targets, URLs and sites, filings, rules and
standards (10-K, Form 20-F, Rule 10b5-1, 510(k), IFRS 16), index names (S&P 500) and
product or model names (iPhone 16, Series 2). One compiled regex scans the text once:
the things to leave out are alternatives tried before a figure at each position, so
their digits are consumed; a few rules that need the word before a plain number run
on the figures found.
"""

from __future__ import annotations

import math
import re
from typing import Literal, NamedTuple

from vast_ai.grounding.lexicon import METRIC_WORDS, normalise, phrases

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
    "kr.": _KRONER,
    "Fr.": frozenset({"CHF"}),
}
_CURRENCY_WORDS: dict[str, frozenset[str]] = {
    "dollars": _DOLLARS,
    "pounds": frozenset({"GBP"}),
    "pound": frozenset({"GBP"}),
    "sterling": frozenset({"GBP"}),
    "euros": frozenset({"EUR"}),
    "euro": frozenset({"EUR"}),
    "kroner": _KRONER,
    "krone": _KRONER,
    "kronor": _KRONER,
}
_PENCE_CODES = ("GBp", "GBX", "GBx")
_PENCE = frozenset({"GBP"})  # amounts in pence are read as pounds
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
    "mln": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "bln": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trn": 1e12,
    "trillion": 1e12,
}

_BASIS_POINT = 0.01  # in percent points
_PENNY = 0.01  # in pounds
_MAX_MAGNITUDE = 1e16  # larger is no company figure (and past float's exact integers)
_SP = r"[ \u00a0\u202f]"  # a space inside one line (never a newline)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_TIME_UNIT = r"(?:day|week|month|quarter|year|yr|hour|minute|decade|session)s?"


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_CURRENCY_PREFIX = _alternation([*_CURRENCY_SYMBOLS, *_ISO_CODES])
_CURRENCY_SUFFIX = _alternation(["kr", *_ISO_CODES, *_CURRENCY_WORDS])
_PENCE_PREFIX = _alternation(list(_PENCE_CODES))

# Left out wherever they start, even glued to a word ("text[^1]", "[a](url)").
_SKIP_ANYWHERE = rf"""
    \[\^[^\]\s]+\]:?                                              # [^1] footnotes
  | \[\d+\]                                                       # [3] citations
  | \]\([^)\s]*(?:{_SP}+"[^"\n]*")?\)                             # ](link target "title")
  | </?[A-Za-z][^>\n]*>                                           # HTML tags
  | (?:https?://|www\.)\S+                                        # bare URLs
  | \^\d+                                                         # ^1 footnote marks
"""
# Left out where a word starts.
_SKIP_AT_WORD_START = rf"""
    (?:19|20)\d\d-\d\d?-\d\d?\b                                  # 2025-03-01
  | \d\d?[/.]\d\d?[/.](?:\d\d\d\d|\d\d)\b                          # 3/1/2025, 01.03.2025
  | {_MONTH}\.?{_SP}+\d\d?(?:st|nd|rd|th)?\b(?:,?{_SP}+\d{{4}})?     # March 1, 2025
  | \d\d?(?:st|nd|rd|th)?{_SP}+{_MONTH}\b\.?(?:,?{_SP}+\d{{4}})?     # 1 March 2025
  | {_MONTH}[-'’]\d\d\b                                           # Dec-24
  | (?:19|20)\d\d[-–/](?:(?:19|20)\d\d|\d\d)\b                   # 2024-25, 2023–2024
  | \d\d?:\d\d(?::\d\d)?(?:{_SP}?(?i:[ap]\.?m\.?)(?![A-Za-z])|\b)  # 10:30, 9:30am
  | \d\d?(?:\.\d\d)?{_SP}?(?i:[ap]\.m\.|[ap]m\b)                   # 4pm, 4 p.m.
  | \d\d?M{_SP}?(?:FY)?'?(?:(?:19|20)\d\d|\d\d)\b                 # 9M 2024, 9M24
  | \d+(?:\.\d+)?(?:{_SP}|-)(?i:{_TIME_UNIT})\b                   # 52 weeks, 3-year
  | \d+/\d+\b(?!/)                                                # 24/7, 1/3
  | \d\d?{_SP}*(?:=|-|–)?{_SP}*(?i:(?:strong{_SP}+)?(?:buy|sell|hold)|outperform|underperform
        |overweight|underweight)\b                                 # 1 strong buy - 5 sell
  | \d\d?{_SP}*(?:-|–|to){_SP}*\d\d?{_SP}+(?i:scale)\b              # a 1-5 scale
  | \d+\([a-z]\)                                                  # 510(k), 401(k)
  | \d[\w-]*\.(?:com|net|org|io|ai|cn)\b                          # 1688.com (a site)
  | ^[ \t]*\#{{1,6}}[ \t]+\d+(?:\.\d+)*\.?(?=\s)                  # ## 2. Valuation
  | ^[ \t]*(?:>[ \t]*)*\d{{1,9}}[.)](?=[ \t]|$)                   # 1. list marker
  | (?i:Scope|Tier|Level|Phase|Stage|Items?){_SP}+\d+[A-Za-z]?
        (?:{_SP}*(?:,|&|and|or|[-–]){_SP}*\d+[A-Za-z]?)*\b
  | (?:Section|Part|Table|Figure|Chart|Exhibit|Note|Appendix|Item|Form|Rule|Page
      |Schedule|Article|Chapter|Slide|No\.|Nos\.){_SP}+\d[\w\-().]*   # Table 2, Rule 10b5-1
  | (?i:(?:10-[KQ]|8-K|6-K|20-F|40-F|S&P{_SP}?500|Russell{_SP}?[123]000|FTSE{_SP}?(?:100|250|350)
        |Nasdaq(?:-|{_SP})?100|(?:DAX|CAC){_SP}?40|Nikkei{_SP}?225|OMX[A-Z]*{_SP}?\d+
        |(?:Euro{_SP}?)?Stoxx{_SP}?(?:50|600))\b)          # filings and index names
"""

_FIGURE = rf"""
    (?<![A-Za-z0-9,'’#%^&])(?<![A-Za-z][-–])  # not glued to a word: Q3, FY2024, COVID-19, #1
    (?<![0-9A-Zabd-wyz]\.)                   # nor to a dot (1.2.3), but "c.13%" is a figure
    (?P<open>\()?
    (?P<sign>[-−+–](?=[\d$£€¥₹₩A-Za-z]))?
    (?:(?P<pence_code>{_PENCE_PREFIX}){_SP}?
      |(?P<cur>{_CURRENCY_PREFIX})(?P<pre_scale>bn|m|mn)?{_SP}?)?
    (?P<sign2>[-−])?
    (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:
        {_SP}?(?P<scale_word>thousand|millions?|billions?|trillion|bn|mn|mln|bln|tn|trn)\b
      | (?P<scale_letter>mm|MM|[kKmMbBT])(?![A-Za-z0-9])
    )?
    (?:
        (?P<pct>{_SP}?%|{_SP}(?:percent|per{_SP}?cent|percentage{_SP}points?)\b
               |{_SP}?(?:pp|pc|pct|ppt|ppts)\b)
      | (?P<bps>{_SP}?bps?\b|{_SP}basis{_SP}points?\b)
      | (?P<mult>[xX](?![A-Za-z0-9])|{_SP}?×|{_SP}times\b|-times\b)
      | (?P<pence>{_SP}?p(?![A-Za-z0-9]|\.[A-Za-z])|{_SP}pence\b|{_SP}?(?:{_PENCE_PREFIX})\b)
    )?
    (?:{_SP}?(?P<cur2>{_CURRENCY_SUFFIX})\b)?
    (?(open)\))
    (?![A-Za-z0-9°]|[.,]\d|-[A-Za-z]|&\d)  # not 3Q24, 1st, 1.2.3, 10-K, 1.5°C, 2b&4
"""

# Most positions are inside words or far from a digit: the two guards fail there
# at once, which keeps the scan of a 3,000-word report to a few milliseconds.
_SCAN = re.compile(
    rf"""{_SKIP_ANYWHERE}
      | (?<![A-Za-z0-9]) (?=[^\d\n]{{0,12}}+\d)
        (?: {_SKIP_AT_WORD_START} | (?P<figure>{_FIGURE}) )""",
    re.VERBOSE | re.MULTILINE,
)
_RANGE_GAP = re.compile(rf"{_SP}*(?:[-–—]|to|and){_SP}*")
_PER_SHARE_AFTER = re.compile(rf"{_SP}*(?:per|/|a){_SP}*(?:(?:diluted|basic){_SP}+)?share\b")
# Words before an amount that make it one per share, with nothing but words between.
_PER_SHARE_BEFORE = re.compile(
    r"(?:\beps|\bdps|\bper[\s-]share|\bshare\s+price|\bdividend|\btarget)\b"
)
_NOT_WORDS = re.compile(r"[.\n\d$€£¥]")
_LOOKBEHIND = 30

# A plain number right after one of these words names a thing, not a quantity.
_NAMING_WORDS = frozenset(
    phrases(
        "top|bottom|tier|level|phase|stage|gen|generation|series|version|model|item|rule|"
        "form|chapter|article|section|part|page|pages|slide|note|notes|figure|table|exhibit|"
        "schedule|scope|appendix|paragraph|clause|no.|round|wave|unit|plant|line|block|zone|"
        "row|column|ifrs|ias|asc|asu|iso|chart|footnote|step|day|week|vol|issue"
    )
)
# A plain number right before one of these names a model: "600 Series", "16 Pro".
_NAMED_AFTER = re.compile(
    r"[ \u00a0](?:Series|Pro|Max|Plus|Ultra|Mini|Edition|Gen|Generation|Class)\b"
)
# Capitalised words that do not name a thing when a number follows them.
_FUNCTION_WORDS = frozenset(
    phrases(
        "a|an|the|at|in|on|of|by|for|to|from|with|and|or|but|nor|as|than|then|so|yet|about|"
        "around|approximately|approx|approx.|roughly|nearly|almost|over|under|above|below|"
        "only|just|some|circa|c.|ca.|up|down|is|are|was|were|be|been|being|has|have|had|its|"
        "their|our|his|her|this|that|these|those|each|every|all|total|net|some|another|"
        "further|just|while|whereas|although|though|despite|after|before|since|during|within|"
        "between|into|onto|per|plus|minus|less|more|most|least|first|last|next|past|trailing|"
        "forward|fiscal|calendar|year|years|we|it|they|analysts|i|roughly|estimated|expected|"
        "guided|consensus|exactly|also|still|even|now|today"
    )
)


class Figure(NamedTuple):
    """A figure as written: its span in the text, value and what it claims to be.

    `value` is in the unit the text shows: percent points for percentages, the full
    amount for money (scale applied, pence as pounds). `tolerance` is half a unit in
    the last place shown. `signed` means the text states the sign (a minus, a plus or
    accounting parentheses in a table), so the sign must match too. `said_per_share`
    means the words around it ("EPS of", "per share") say it is an amount per share.
    `points` marks a change stated in percentage or basis points. `digits` counts the
    significant digits shown (what makes a match by value alone unlikely to be chance).
    Basis points are read to the nearest 10 when written so ("210bps" is 2.05–2.15 points).
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
    points: bool = False
    digits: int = 0
    bracketed: bool = False  # written in brackets in prose: "(£3.09)", "(£441.7m)"

    @property
    def kind(self) -> FigureKind:
        if self.unit_suffix is not None:
            return self.unit_suffix
        if self.currencies is not None and self.scale <= 1.0 and self.said_per_share:
            return "per_share"
        if self.currencies is not None or self.scale != 1.0:
            return "money"
        return "number"


def _currencies(symbol: str | None) -> frozenset[str] | None:
    if symbol is None:
        return None
    if symbol.lower() in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[symbol.lower()]
    return _CURRENCY_SYMBOLS.get(symbol, frozenset({symbol.upper()}))


def in_table_row(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return text[line_start:pos].lstrip().startswith("|")


def _said_per_share(text: str, start: int, end: int) -> bool:
    if _PER_SHARE_AFTER.match(text, end):
        return True
    words = text[max(0, start - _LOOKBEHIND - 10) : start]
    last = max((m.end() for m in _NOT_WORDS.finditer(words)), default=0)
    return _PER_SHARE_BEFORE.search(words.lower(), last) is not None


def significant_digits(number: str) -> int:
    """Digits shown from the first non-zero one; an integer's trailing zeros are not
    counted ("400" is one digit of precision, "400.0" four)."""
    digits = number.replace(",", "").lstrip("0.")
    if "." in number:
        return len(digits.replace(".", ""))
    return len(digits.rstrip("0"))


def _names_a_thing(text: str, start: int) -> bool:
    """A plain number after a capitalised word that is no metric ("iPhone 16",
    "Series 2", "IFRS 16", "Hornsea 3"), a naming word ("top 10", "Scope 3") or glued
    by a dash to a code with letters ("Rule 10b5-1")."""
    before = text[max(0, start - 30) : start]
    if before.endswith(("-", "–", "+")):
        code = re.split(r"[^A-Za-z0-9]", before[:-1])[-1]
        return any(char.isalpha() for char in code)
    if not before.endswith((" ", "\u00a0", "\u202f")) or not before.strip():
        return False
    word = before.split()[-1].lstrip("(\"“'‘*_[")
    if not word[:1].isalpha() or not (word[-1].isalnum() or word.endswith(".")):
        return False  # "(Yahoo Finance): 1.85" names no thing
    lowered = word.lower()
    if lowered in _NAMING_WORDS:
        return True
    if word == lowered or lowered in _FUNCTION_WORDS or word.endswith(("'s", "’s")):
        return False
    return normalise(word.rstrip(".,:;")) not in METRIC_WORDS


_GROUPS = (
    "num", "scale_word", "scale_letter", "pre_scale", "pence", "pence_code", "bps", "pct",
    "mult", "cur", "cur2", "sign", "sign2", "open",
)  # fmt: skip


def _figure(match: re.Match[str], text: str) -> Figure | None:
    """The figure a match of _FIGURE states, or None if it is none (a year, a name)."""
    (number, scale_word, scale_letter, pre_scale, pence, pence_code, bps, pct, mult, cur,
     cur2, sign, sign2, parenthesised) = match.group(*_GROUPS)  # fmt: skip
    if len(number) > 24:
        return None  # no company figure has so many digits
    scale_name = (scale_word or scale_letter or pre_scale or "").lower()
    in_pence = pence is not None or pence_code is not None
    scale = _BASIS_POINT if bps else _SCALES.get(scale_name, 1.0)
    if in_pence:
        scale *= _PENNY
    unit_suffix: Literal["percent", "multiple"] | None = (
        "percent" if pct or bps else "multiple" if mult else None
    )
    currency = cur or cur2
    currencies = _PENCE if in_pence else _currencies(currency) if currency else None
    start = match.start("figure")
    if not (currencies or scale_name or unit_suffix or sign or sign2):  # a plain number
        if len(number) == 4 and number.isdigit() and 1900 <= int(number) <= 2100:
            return None  # a year
        if _names_a_thing(text, start) or _NAMED_AFTER.match(text, match.end()):
            return None
    elif scale_name == "k" and len(number) == 1 and not currencies:
        return None  # 4K, 8K: a resolution
    if parenthesised and not in_table_row(text, start):
        return None  # "(£3.09)" in prose is an aside: read without its brackets
    magnitude = float(number.replace(",", "")) * scale
    if not math.isfinite(magnitude) or magnitude > _MAX_MAGNITUDE:
        return None
    negative = sign in ("-", "−", "–") or sign2 is not None or parenthesised is not None
    end = match.end()
    return Figure(
        text[start:end],
        start,
        end,
        -magnitude if negative else magnitude,
        _tolerance(number, scale, bps is not None),
        currencies,
        negative or sign is not None,
        scale,
        unit_suffix,
        currencies is not None and scale <= 1.0 and _said_per_share(text, start, end),
        bps is not None or (pct is not None and _is_points(pct)),
        significant_digits(number),
    )


def _tolerance(number: str, scale: float, bps: bool) -> float:
    """Half a unit in the last place shown; basis points ending in 0 to the nearest 10."""
    if bps and "." not in number and number.endswith("0"):
        return 5 * scale
    return 0.5 * 10.0 ** -len(number.partition(".")[2]) * scale


def _is_points(percent_word: str) -> bool:
    word = percent_word.strip().lower()
    return word in ("pp", "ppt", "ppts") or word.startswith("percentage")


def _unbracketed(match: re.Match[str], text: str) -> re.Match[str] | None:
    """Re-scan a prose "(figure)" without its brackets."""
    inner = _SCAN.match(text, match.start("figure") + 1, match.end() - 1)
    return inner if inner is not None and inner["figure"] else None


def _is_footnote_mark(match: re.Match[str]) -> bool:
    """A bracketed small whole number in prose: "(1)" marks a footnote or a list."""
    return re.fullmatch(r"\(\d{1,2}\)", match["figure"]) is not None


def range_pairs(figures: list[Figure], text: str) -> list[tuple[int, int]]:
    """Indexes of figures that are two ends of one range: "10–12%", "$10 to 12 billion",
    "between 10% and 12%" (but "from $383B to $391B" is a change, not a range)."""
    pairs = []
    for i in range(len(figures) - 1):
        first, second = figures[i], figures[i + 1]
        gap = _RANGE_GAP.fullmatch(text, first.end, second.start)
        if gap is None:
            continue
        before = text[max(0, first.start - 20) : first.start]
        word = gap.group().strip()
        if word == "and" and not re.search(r"(?i:between)\s*$", before):
            continue
        if word == "to" and re.search(r"(?i:from)\s*$", before):
            continue
        if _same_unit(first, second) and abs(first.value) <= abs(second.value) * _scale_gap(
            first, second
        ):
            pairs.append((i, i + 1))
    return pairs


def _same_unit(first: Figure, second: Figure) -> bool:
    """Whether two figures may be the ends of one range: the first may leave out the
    unit, scale and currency the second states."""
    bare_first = first.unit_suffix is None and first.currencies is None and first.scale == 1.0
    if bare_first:
        return True
    return first.unit_suffix == second.unit_suffix and (
        first.currencies is None
        or second.currencies is None
        or first.currencies == second.currencies
    )


def _scale_gap(first: Figure, second: Figure) -> float:
    """How much larger than the second the first end may look before the scale joins
    them ("$10 to 12 billion": 10 against 12e9)."""
    return 1.0 if first.scale == second.scale or first.scale != 1.0 else 1.0 / second.scale


def _join_ranges(figures: list[Figure], text: str) -> list[Figure]:
    """In "10–12%", "$10–12 billion" or "$10 to 12" each end takes the unit, scale
    and currency the other end states."""
    joined = list(figures)
    for i, j in range_pairs(figures, text):
        first, second = joined[i], joined[j]
        if first.unit_suffix is None and first.scale == 1.0:
            first = first._replace(
                value=first.value * second.scale,
                tolerance=first.tolerance * second.scale,
                scale=second.scale,
                unit_suffix=second.unit_suffix,
                points=second.points,
            )
        joined[i] = first._replace(currencies=first.currencies or second.currencies)
        joined[j] = second._replace(currencies=second.currencies or first.currencies)
    return joined


def extract_figures(text: str) -> list[Figure]:
    """Every figure in `text`, in order, with offsets into `text`."""
    figures: list[Figure] = []
    for match in _SCAN.finditer(text):
        if match["figure"] is None:
            continue  # something left out
        fig = _figure(match, text)
        if (
            fig is None
            and match["open"]
            and not _is_footnote_mark(match)
            and not in_table_row(text, match.start())
        ):
            inner = _unbracketed(match, text)  # "(£3.09)" in prose: an aside, read without them
            fig = _figure(inner, text) if inner is not None else None
            fig = fig._replace(bracketed=True) if fig is not None else None
        if fig is not None:
            figures.append(fig)
    return _join_ranges(figures, text)
