"""What the writer tells a model in a rewrite, and a reader when a section fails the check."""

from __future__ import annotations

from vast_ai.schemas import FigureCheck, SectionGrounding
from vast_ai.writer.checks import check_reason, corrections


def figure(text: str, status: str, **fields: object) -> FigureCheck:
    return FigureCheck.model_validate(
        {"text": text, "start": 0, "end": len(text), "value": 1.0, "kind": "percent"}
        | {"status": status, **fields}
    )


GROUNDING = SectionGrounding(
    found=5,
    verified=1,
    mismatch=2,
    unverified=2,
    figures=[
        figure("46.2%", "verified", fact_key="gross_margin"),
        figure(
            "24.3%",
            "mismatch",
            fact_key="net_margin",
            fact_label="Net margin",
            fact_display="24.3%",
            note="24.3% is the net margin, not the operating margin",
        ),
        figure("38.8x", "mismatch", fact_label="P/E (trailing)", fact_display="38.8x"),
        figure("12.5%", "unverified"),
        figure("12.5%", "unverified"),
    ],
)


def test_each_failing_figure_is_said_once_as_what_it_really_is() -> None:
    assert corrections(GROUNDING) == [
        "24.3% is the net margin, not the operating margin",  # the check's own note
        "38.8x is the P/E (trailing), not the metric the draft gave",
        "12.5% is not in the data",
    ]


def test_the_reason_names_the_failing_figures() -> None:
    reason = check_reason(GROUNDING, not_rewritten="It was not rewritten.")
    assert reason.startswith("4 of 5 figures failed the check against the data: 24.3% is")
    assert reason.endswith("12.5% is not in the data. It was not rewritten.")
    many = SectionGrounding(
        found=7, unverified=7, figures=[figure(f"{i}.5%", "unverified") for i in range(7)]
    )
    assert check_reason(many).endswith("4.5% is not in the data; and 2 more.")
