"""Reading the model's rating answer: JSON that must validate, or nothing."""

from __future__ import annotations

import re

from pydantic import ValidationError

from vast_ai.schemas import Rating

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)

NOT_RATED = Rating(
    recommendation="not_rated",
    summary="The model gave no valid rating in two attempts; ERT does not invent one.",
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
