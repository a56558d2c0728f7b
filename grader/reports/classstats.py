"""Numbers about a class, shared by the HTML report and its charts."""

from __future__ import annotations

import statistics
from collections import Counter
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
class CheckRate:
    exercise: str
    name: str
    passed: int
    out_of: int  # submissions of the exercise (errors count as failed)
    common_failure: str  # the most frequent message among failures

    @property
    def rate(self) -> float:
        return self.passed / self.out_of if self.out_of else 0.0


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


def check_rates(result: ClassResult) -> list[CheckRate]:
    """Every check's pass rate among submitted files, lowest first (what to reteach)."""
    rates = []
    for index, info in enumerate(result.exercises):
        submitted = _submitted(result, index)
        if not submitted:
            continue
        for position, check in enumerate(submitted[0].checks):
            verdicts = [e.checks[position] for e in submitted]
            failures = Counter(e.error or c.message
                               for e, c in zip(submitted, verdicts, strict=True) if not c.passed)
            rates.append(CheckRate(info.id, check.name, sum(c.passed for c in verdicts),
                                   len(submitted),
                                   failures.most_common(1)[0][0] if failures else ""))
    return sorted(rates, key=lambda r: (r.rate, r.exercise))


def slowest(result: ClassResult, count: int = 10) -> list[Row]:
    rows = [Row(s.student, e) for s in result.students for e in s.exercises
            if e.submitted]
    return sorted(rows, key=lambda r: -r.result.seconds)[:count]


def erroring(result: ClassResult) -> list[Row]:
    """Submissions that could not be checked (missing files are counted, not listed)."""
    return [Row(s.student, e) for s in result.students for e in s.exercises
            if e.error is not None and e.submitted]
