"""The rating: the model's JSON answer read strictly, and the ratings ERT withholds.

A rating is withheld ("not_rated", with the reason in `withheld` and `summary`) rather
than given when it would look better than the text it rests on: a demo model wrote that
text, most of it could not be written, or it failed the figure check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from vast_ai.schemas import Rating

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)

NOT_RATED = Rating(
    recommendation="not_rated",
    summary="The model gave no valid rating in two attempts; ERT does not invent one.",
    withheld="no_valid_answer",
)

DEMO_MODEL = Rating(
    recommendation="not_rated",
    summary="Not rated: a small demo model wrote this text, and its claims are unreliable. "
    "For a rated report, run ERT with Ollama (OLLAMA_HOST) or a GPU tier.",
    withheld="demo_model",
)


def parse_rating(text: str) -> Rating | None:
    """The rating in `text` (bare JSON or a ```json fence), or None if it does not validate."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return Rating.model_validate_json(body)
    except ValidationError:
        return None


def sections_failed(written: int, wanted: int) -> Rating:
    """For a report in which `written` of the `wanted` sections a rating rests on exist."""
    some = "none" if written == 0 else "most"
    return Rating(
        recommendation="not_rated",
        summary=f"Not rated: {some} of the {wanted} sections a rating rests on could not be "
        "written.",
        withheld="sections_failed",
    )


def failed_check(titles: Sequence[str]) -> Rating:
    """For a rating resting on text (sections, or its own summary) that failed the check."""
    named = ", ".join(titles)
    return Rating(
        recommendation="not_rated",
        summary=f"Not rated: figures in {named} failed the check against the data, and a "
        "rating resting on them would look better than it is.",
        withheld="failed_check",
    )
