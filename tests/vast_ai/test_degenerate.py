"""Degenerate text: a repeat is found while the text streams; endings are flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from vast_ai.writer.degenerate import RepetitionGuard, ending_flags, ends_mid_sentence

FIXTURES = Path(__file__).parent / "fixtures"
# Gemma 3 270M writing AAPL's valuation and business overview as the writer asked before
# it watched for repeats (700 tokens each): the first falls into a paragraph that comes
# back again and again, the second into a sentence that never ends.
LOOPING_DRAFT = (FIXTURES / "gemma_aapl_valuation_loop.md").read_text(encoding="utf-8").strip()
RUN_ON = (FIXTURES / "gemma_aapl_business_overview_loop.md").read_text(encoding="utf-8").strip()


def stream(text: str, size: int = 3) -> tuple[RepetitionGuard, int | None, int]:
    """Feed `text` in pieces of `size` characters until the guard finds a repeat; the
    guard, where the repeat starts, and how many characters it had read then."""
    guard = RepetitionGuard()
    for start in range(0, len(text), size):
        cut = guard.feed(text[start : start + size])
        if cut is not None:
            return guard, cut, start + size
    return guard, None, len(text)


def test_a_repeated_paragraph_is_cut_where_it_starts_repeating() -> None:
    _, cut, read = stream(LOOPING_DRAFT)
    paragraphs = LOOPING_DRAFT.split("\n\n")
    first_repeat = next(i for i, p in enumerate(paragraphs) if p in paragraphs[:i])
    kept = "\n\n".join(paragraphs[:first_repeat])
    assert cut is not None and LOOPING_DRAFT[:cut].strip() == kept
    # Caught at the end of the repeated paragraph's first sentence, not at the end.
    first_sentence = (paragraphs[first_repeat] + " ").index(". ") + 1
    assert read <= len(kept) + 2 + first_sentence + 3 < len(LOOPING_DRAFT)


@pytest.mark.parametrize("size", [1, 7, 50])
def test_the_repeat_is_found_however_the_text_is_split(size: int) -> None:
    text = "Margins held up well this year. Sales grew in every region. " * 2
    _, cut, _ = stream(text, size)
    assert cut is not None and text[:cut].strip() == (
        "Margins held up well this year. Sales grew in every region."
    )


def test_a_loop_inside_one_endless_sentence_is_cut() -> None:
    _, cut, read = stream(RUN_ON, 4)
    assert cut is not None and read < len(RUN_ON) / 2
    kept = RUN_ON[:cut]
    assert kept.startswith("Apple Inc. (AAPL) is a global technology company")
    # What is kept is said once: its last 60 characters do not occur earlier in it.
    assert kept.count(kept[-60:]) == 1


def test_honest_text_is_not_cut() -> None:
    honest = (
        "Apple trades at 38.8x trailing earnings. Risks remain. The shares trade at 29.4x "
        "forward earnings, below the trailing multiple.\n\n"
        "- Revenue (TTM): $395.76B\n- Net income (TTM): $96.15B\n\n"
        "Risks remain. Competition in smartphones is intense, and regulators are watching."
    )
    assert stream(honest)[1] is None  # "Risks remain." is too short to count as a loop


@pytest.mark.parametrize(
    ("text", "mid"),
    [
        ("Revenue grew strongly.", False),
        ("Revenue grew strongly and", True),
        ("It trades at **38.8x**.", False),
        ('He said "buy."', False),
        ("Margins:\n\n- Gross margin: 46.2%", False),
        ("| Revenue | $391.0B |", False),
        ("### Outlook", False),
        ("", False),
    ],
)
def test_ends_mid_sentence(text: str, mid: bool) -> None:
    assert ends_mid_sentence(text) is mid


def test_ending_flags() -> None:
    assert ending_flags("Done.", "stop", 700, cut=False) == []
    length = ending_flags("Revenue grew and", "length", 700, cut=False)
    assert [f.code for f in length] == ["length_limit", "ends_mid_sentence"]
    assert "700 tokens" in length[0].message
    cut = ending_flags("Revenue grew.", None, 700, cut=True)
    assert [f.code for f in cut] == ["repetition_cut"]
