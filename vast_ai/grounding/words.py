"""The words a section names, found in one scan of its text: metrics (with the fact
labels the lexicon does not know), periods, cues (which way a change goes, a CAGR, a
negative sign, a word narrowing analyst targets) and whose figure it is (the company,
a peer, a comparison group). Looked up by clause and position, so reading the claims
of a long report stays within milliseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from vast_ai.grounding.lexicon import (
    CAGR_WORDS,
    FALL_WORDS,
    METRIC_WORDS,
    NEGATIVE_WORDS,
    OTHER_SUBJECT_WORDS,
    OWN_SUBJECT_WORDS,
    REFINERS,
    RISE_WORDS,
    MetricWords,
    lowered,
    normalise,
    trie_pattern,
)
from vast_ai.grounding.periods import WORD_PERIODS, PeriodMention, digit_periods
from vast_ai.grounding.tables import find_tables

OTHER = "*"  # a comparison group (peers, the sector), not the company itself

# Words near a figure: which way a change goes, a CAGR, a negative sign, a word that
# narrows analyst targets.
CUE_KINDS: dict[str, str] = {
    **{w: "rise" for w in RISE_WORDS},
    **{w: "fall" for w in FALL_WORDS},
    **{w: "cagr" for w in CAGR_WORDS},
    **{w: "negative" for w in NEGATIVE_WORDS},
    **{w: f"refine:{target}" for w, target in REFINERS.items()},
}
# Nouns and adjectives after a figure that make it a change: "a 2.1% decline", "5% higher".
_CLAUSE_END = re.compile(
    r"""(?=[.!?;\n \t,])(?:                              # one cheap test at most positions
        [.!?]["”’)*_]*[ \t]+(?=[A-Z"“(\[*_])           # end of a sentence
      | ;[ \t]+                                          # semicolon
      | [ \t,]+(?=(?:while|whereas|but|although|though|however)\b)  # contrast
      | \n[ \t]*(?=\n|[-*+>|\#]|\d{1,3}[.)][ \t])        # blank line, list item, table, heading
    )""",
    re.VERBOSE,
)


class Mention(NamedTuple):
    start: int
    end: int
    concepts: tuple[str, ...]
    polarity: int
    words: str


class Marked(NamedTuple):
    """A word found at a position: a cue's kind or whose figure a subject word names."""

    start: int
    end: int
    kind: str | None
    words: str


@dataclass(frozen=True)
class Names:
    """Whose figure a word names: the company (own) and its peers (ticker: names)."""

    own: tuple[str, ...] = ()
    peers: tuple[tuple[str, tuple[str, ...]], ...] = ()


NO_NAMES = Names()


class Vocabulary(NamedTuple):
    """Every phrase the claims are read from, in one matcher: metrics (with the fact
    labels the lexicon does not know), periods in words, cues and whose figure it is."""

    pattern: re.Pattern[str]
    entries: dict[str, tuple[tuple[str, object], ...]]


Entries = dict[str, list[tuple[str, object]]]


def _key(words: str) -> str:
    """The lookup key of a phrase as written: normalised, a possessive "'s" dropped."""
    return normalise(words[:-2] if words.endswith("'s") else words)


def _add(entries: Entries, phrase: str, kind: str, payload: object) -> None:
    listed = entries.setdefault(_key(phrase), [])
    if (kind, payload) not in listed:
        listed.append((kind, payload))


def _lexicon_entries() -> Entries:
    """The fixed phrases. A phrase that holds a phrase of another kind names both: "the
    stock" is whose figure and a share price, "trailing P/E" a metric and a period."""
    entries: Entries = {}
    for phrase, words in METRIC_WORDS.items():
        _add(entries, phrase, "metric", words)
    for phrase, period in WORD_PERIODS.items():
        _add(entries, phrase, "period", period)
    for word, cue in CUE_KINDS.items():
        _add(entries, word, "cue", cue)
    for word in OTHER_SUBJECT_WORDS:
        _add(entries, word, "subject", OTHER)
    for word in OWN_SUBJECT_WORDS:
        _add(entries, word, "subject", None)
    for phrase, listed in list(entries.items()):
        tokens = phrase.split()
        kinds = {kind for kind, _ in listed}
        for size in range(1, len(tokens)):
            for first in range(len(tokens) - size + 1):
                for kind, payload in entries.get(" ".join(tokens[first : first + size]), ()):
                    if kind not in kinds:
                        _add(entries, phrase, kind, payload)
    return entries


_LEXICON_ENTRIES = _lexicon_entries()


@lru_cache(maxsize=64)
def vocabulary(names: Names, labels: tuple[str, ...]) -> Vocabulary:
    entries = {phrase: list(listed) for phrase, listed in _LEXICON_ENTRIES.items()}
    for label in labels:
        _add(entries, label, "metric", MetricWords((f"label:{label}",), 1))
    for word in names.own:
        _add(entries, word, "subject", None)
    for ticker, peer_names in names.peers:
        for word in (ticker, *peer_names):
            _add(entries, word, "subject", ticker)
    pattern = re.compile(r"(?<![a-z0-9&])(?:" + trie_pattern(entries) + r")(?:'s)?(?![a-z0-9&])")
    return Vocabulary(pattern, {k: tuple(v) for k, v in entries.items()})


class Clause(NamedTuple):
    """A clause and the words found in it, in order."""

    start: int
    end: int
    metrics: list[Mention]
    periods: list[PeriodMention]
    cues: list[Marked]
    subjects: list[Marked]


def within(marks: list, start: int, end: int) -> list:  # type: ignore[type-arg]
    """The marks of a clause's (short) list that lie in [start, end)."""
    return [m for m in marks if start <= m.start and m.end <= end]


def read_words(
    low: str, vocabulary: Vocabulary, start: int = 0, end: int | None = None
) -> tuple[list, list, list, list]:  # type: ignore[type-arg]
    """(metrics, periods, cues, subjects) named in low[start:end] (`lowered` text)."""
    stop = len(low) if end is None else end
    metrics: list[Mention] = []
    periods: list[PeriodMention] = digit_periods(low, start, stop)
    cues: list[Marked] = []
    subjects: list[Marked] = []
    entries = vocabulary.entries
    words_found = False
    for match in vocabulary.pattern.finditer(low, start, stop):
        words = match.group()
        begin, finish = match.span()
        found = entries.get(words) or entries[_key(words)]
        for kind, payload in found:
            if kind == "metric":
                assert isinstance(payload, MetricWords)
                metrics.append(Mention(begin, finish, payload.concepts, payload.polarity, words))
            elif kind == "period":
                periods.append(PeriodMention(begin, finish, payload))  # type: ignore[arg-type]
                words_found = True
            elif kind == "cue":
                cues.append(Marked(begin, finish, payload, words))  # type: ignore[arg-type]
            else:
                subjects.append(Marked(begin, finish, payload, words))  # type: ignore[arg-type]
    if words_found:
        periods.sort()
    return metrics, periods, cues, subjects


class TextIndex:
    """A section's text and the words it names, found clause by clause as figures ask."""

    def __init__(self, text: str, names: Names, labels: tuple[str, ...]) -> None:
        self.text = text
        self.low = lowered(text)
        self.bounds = [0, *(m.end() for m in _CLAUSE_END.finditer(text)), len(text)]
        self.tables = find_tables(text)
        self.vocabulary = vocabulary(names, labels)
        self._clauses: dict[int, Clause] = {}
        self._cells: dict[str, tuple[list, list, list, list]] = {}  # type: ignore[type-arg]

    def clause(self, pos: int) -> Clause:
        """The clause at `pos`, with the words found in it (read once)."""
        i = bisect_right(self.bounds, pos)
        start, end = self.bounds[i - 1], self.bounds[min(i, len(self.bounds) - 1)]
        found = self._clauses.get(start)
        if found is None:
            words = read_words(self.low, self.vocabulary, start, end)
            found = self._clauses[start] = Clause(start, end, *words)
        return found

    def cell(self, words: str) -> tuple[list, list, list, list]:  # type: ignore[type-arg]
        """(metrics, periods, cues, subjects) named in a table cell's words."""
        found = self._cells.get(words)
        if found is None:
            found = self._cells[words] = read_words(lowered(words), self.vocabulary)
        return found
