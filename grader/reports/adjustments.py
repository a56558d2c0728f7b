"""The sentence each export uses for how a final score came about (raw, override,
penalty, final, and why)."""

from __future__ import annotations

from grader.reports.cells import points
from grader.results import ExerciseResult


def adjustment_line(result: ExerciseResult) -> str | None:
    """'raw 8, override +1, late penalty -2, final 7 (reason; reason)', or None when
    nothing changed the score and there is nothing to say."""
    adjustment = result.adjustment
    if adjustment is None or (not adjustment.reasons and adjustment.raw == adjustment.final):
        return None
    parts = [f"raw {points(adjustment.raw)}"]
    if adjustment.override:
        parts.append(f"override {adjustment.override:+g}")
    if adjustment.penalty:
        parts.append(f"late penalty -{points(adjustment.penalty)}")
    parts.append(f"final {points(adjustment.final)}")
    why = f" ({'; '.join(adjustment.reasons)})" if adjustment.reasons else ""
    return ", ".join(parts) + why
