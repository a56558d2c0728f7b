"""Numbers about a class, shared by the HTML report and its charts."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from grader.results import ClassResult, ExerciseInfo, ExerciseResult


@dataclass(frozen=True)
class ExerciseSummary:
    info: ExerciseInfo
    scores: list[float]  # every student, "no submission" counted as 0
    submitted: int
    full_marks: int
    errors: int  # submitted but could not be checked

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0


@dataclass(frozen=True)
class Row:
    student: str
    result: ExerciseResult


def _submitted(result: ClassResult, index: int) -> list[ExerciseResult]:
    return [s.exercises[index] for s in result.students
            if s.exercises[index].submitted]


def exercise_summaries(result: ClassResult) -> list[ExerciseSummary]:
    summaries = []
    for index, info in enumerate(result.exercises):
        submitted = _submitted(result, index)
        summaries.append(ExerciseSummary(
            info=info, scores=[s.exercises[index].score for s in result.students],
            submitted=len(submitted), full_marks=sum(e.full_marks for e in submitted),
            errors=sum(e.error is not None for e in submitted)))
    return summaries


def slowest(result: ClassResult, count: int = 10) -> list[Row]:
    rows = [Row(s.student, e) for s in result.students for e in s.exercises
            if e.submitted]
    return sorted(rows, key=lambda r: -r.result.seconds)[:count]


def erroring(result: ClassResult) -> list[Row]:
    """Submissions that could not be checked (missing files are counted, not listed)."""
    return [Row(s.student, e) for s in result.students for e in s.exercises
            if e.error is not None and e.submitted]
