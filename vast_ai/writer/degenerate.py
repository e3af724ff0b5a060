"""Degenerate text, caught while it streams: a model that repeats itself, or stops short.

Small models (and large ones, now and then) fall into a loop and write one sentence or
paragraph again and again until their token budget runs out. `RepetitionGuard` reads the
text as it streams and says where the first repeat begins, so the writer stops the
generation there and keeps only the text before it. It also says how much of the text is
settled: a sentence that so far reads like the start of an earlier one is held back until
it turns out different, so a repeated sentence is not shown while it streams. (A loop
inside one endless sentence is found only once it has come round again.) `ending_flags`
says how a finished text ends: cut at the token limit, or in the middle of a sentence.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort

from vast_ai.engines.base import FinishReason
from vast_ai.schemas import SectionFlag

# A sentence ends at . ! ? followed by a space, or at a line break.
_BOUNDARY = re.compile(r"[.!?](?=\s)|\n")
_NOT_WORDS = re.compile(r"[\W_]+")
# Sentences shorter than this (normalised) may repeat honestly ("Risks remain.").
MIN_SENTENCE = 24
# A sentence that runs longer than this without ending is searched for a repeated tail.
_RUN_ON = 300
_TAIL = 60
# Characters a sentence may differ in length from an earlier one it repeats (spaces, marks).
_SLACK = 16


def _normal(sentence: str) -> str:
    return _NOT_WORDS.sub(" ", sentence.lower()).strip()


class RepetitionGuard:
    """Feed it the text as it arrives; `feed` answers where the repeat starts (an offset
    into all the text fed so far), or None while the text does not repeat itself."""

    def __init__(self) -> None:
        self.text = ""
        self._start = 0  # where the sentence being written starts
        self._seen: list[str] = []  # sentences written, normalised, sorted
        self._longest = 0  # characters of the longest of them, as written

    def feed(self, piece: str) -> int | None:
        scan_from = max(len(self.text) - 1, self._start)
        self.text += piece
        for boundary in _BOUNDARY.finditer(self.text, scan_from):
            end = boundary.end()
            if end <= self._start:
                continue
            sentence = _normal(self.text[self._start : end])
            if len(sentence) >= MIN_SENTENCE:
                if self._has(sentence):
                    return self._start
                insort(self._seen, sentence)
                self._longest = max(self._longest, end - self._start)
            self._start = end
        return self._run_on()

    @property
    def settled(self) -> int:
        """How much of the text may be shown: all of it, or up to the sentence being written
        when that begins like an earlier sentence (it may be a repeat)."""
        begun = len(self.text) - self._start
        if not self._seen or begun > self._longest + _SLACK:
            return len(self.text)  # too long to be the start of any earlier sentence
        words = _normal(self.text[self._start :])
        if words and self._has(words, prefix=True):
            return self._start
        return len(self.text)

    def _has(self, sentence: str, *, prefix: bool = False) -> bool:
        i = bisect_left(self._seen, sentence)
        if i == len(self._seen):
            return False
        return self._seen[i].startswith(sentence) if prefix else self._seen[i] == sentence

    def _run_on(self) -> int | None:
        """A loop inside one endless sentence: its last characters occurred earlier in it,
        so it repeats from the end of their first occurrence."""
        sentence = self.text[self._start :]
        if len(sentence) < _RUN_ON or not sentence[-1].isspace():
            return None
        tail = sentence[-_TAIL:]
        first = sentence.find(tail)
        if first + _TAIL >= len(sentence):
            return None
        return self._start + first + _TAIL


_LIST_OR_TABLE = re.compile(r"^\s*(?:[-*+|#>]|\d+[.)])")
_CLOSERS = "*_`\"'”’)]"


def ends_mid_sentence(text: str) -> bool:
    """Prose whose last sentence has no end mark; a list, table or heading line ends well."""
    lines = text.rstrip().splitlines()
    if not lines:
        return False
    last = lines[-1].rstrip().rstrip(_CLOSERS)
    if not last or _LIST_OR_TABLE.match(lines[-1]):
        return False
    return last[-1] not in ".!?:…"


def ending_flags(
    text: str, finish_reason: FinishReason | None, max_tokens: int, *, cut: bool
) -> list[SectionFlag]:
    """The flags of a finished section text; `cut` when the writer cut a repeat off."""
    flags: list[SectionFlag] = []
    if cut:
        flags.append(
            SectionFlag(
                code="repetition_cut",
                message="The model began repeating itself; the repeated text was cut.",
            )
        )
    elif finish_reason == "length":
        flags.append(
            SectionFlag(
                code="length_limit",
                message=f"The model used its whole budget of {max_tokens} tokens; "
                "the section may be cut short.",
            )
        )
    if ends_mid_sentence(text):
        flags.append(
            SectionFlag(code="ends_mid_sentence", message="The section ends mid-sentence.")
        )
    return flags
