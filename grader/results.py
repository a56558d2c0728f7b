"""What grading produces: the pydantic models behind every report and export.

`ExerciseResult` is the `--json` contract of SPEC.md; `StudentResult` is one row
of a batch. Exporters and renderers read these and nothing else.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class CheckResult(BaseModel):
    """One check's verdict, as a learner sees it."""

    name: str
    passed: bool
    score: float
    max_score: float
    message: str
    hint: str | None = None
    detail: str | None = Field(None, description="e.g. a text histogram, shown verbatim")


class ExerciseResult(BaseModel):
    """One submission of one exercise. `error` is set when it could not be graded."""

    exercise: str
    score: float
    max_score: float
    error: str | None
    checks: list[CheckResult]
    output: str = Field("", description="what the learner's code printed (capped)")
    seconds: float = Field(0.0, description="wall time spent grading")

    @property
    def full_marks(self) -> bool:
        return self.error is None and self.score >= self.max_score


class StudentResult(BaseModel):
    """One student's results across the course's exercises, in course order."""

    student: str
    exercises: list[ExerciseResult]

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)
