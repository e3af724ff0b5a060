"""The kept Gemma drafts on AAPL and how to read them back (no heavy imports: the
model and the market-data code are only needed to rebuild them, see gemma_aapl.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vast_ai.schemas import Fact

SECTION = "valuation"
FIXTURES = Path(__file__).parent / "fixtures"
DATA_FIXTURE = FIXTURES / "gemma_aapl_facts.json"


@dataclass(frozen=True)
class Draft:
    """How one kept draft was sampled."""

    name: str
    temperature: float
    seed: int
    max_tokens: int

    @property
    def path(self) -> Path:
        return FIXTURES / f"gemma_aapl_{SECTION}_{self.name}.md"


# As the report writer asks by default; and sampled hot, where the model makes figures up.
WRITER_DEFAULTS = Draft("writer", temperature=0.2, seed=42, max_tokens=700)
HOT = Draft("hot", temperature=0.8, seed=2, max_tokens=160)
DRAFTS = (WRITER_DEFAULTS, HOT)


def load_data() -> tuple[list[Fact], dict[str, Any]]:
    """The fact sheet and raw data the drafts were written from."""
    data = json.loads(DATA_FIXTURE.read_text(encoding="utf-8"))
    return [Fact.model_validate(f) for f in data["fact_sheet"]], data["raw"]
