"""What grading produces: the pydantic models behind every report and export.

`ExerciseResult` is the `--json` contract of SPEC.md; `StudentResult` is one row
of a batch. Exporters and renderers read these and nothing else.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Built on first use: the learner's text report never pays for a JSON serializer.
DEFERRED = ConfigDict(defer_build=True)

NO_SUBMISSION = "no submission"  # the error of a student's missing file (SPEC.md)
# Errors that are the grader's fault, not the learner's: a batch grades these again.
GRADER_FAULT = ("the grader's sandbox failed", "the grader failed on this file")


class CheckResult(BaseModel):
    """One check's verdict, as a learner sees it."""

    model_config = DEFERRED

    name: str
    passed: bool
    score: float
    max_score: float
    message: str
    hint: str | None = None
    detail: str | None = Field(None, description="e.g. a text histogram, shown verbatim")


class ExerciseResult(BaseModel):
    """One submission of one exercise. `error` is set when it could not be graded."""

    model_config = DEFERRED

    exercise: str
    score: float
    max_score: float
    error: str | None
    checks: list[CheckResult]
    output: str = Field("", description="what the learner's code printed (capped)")
    seconds: float = Field(0.0, description="wall time spent grading")

    @property
    def grader_fault(self) -> bool:
        """The grader, not the submission, failed: the score says nothing about the work."""
        return self.error is not None and self.error.startswith(GRADER_FAULT)

    @property
    def full_marks(self) -> bool:
        return self.error is None and self.score >= self.max_score


class StudentResult(BaseModel):
    """One student's results across the course's exercises, in course order."""

    model_config = DEFERRED

    student: str
    exercises: list[ExerciseResult]

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)


class ExerciseInfo(BaseModel):
    """An exercise as a class report names it."""

    model_config = DEFERRED

    id: str
    title: str
    max_score: float


class Skipped(BaseModel):
    """A folder of a batch that was not graded, and why (shown to the TA)."""

    model_config = DEFERRED

    name: str = Field(description="the folder name; unprintable characters as \\n, \\x07, ...")
    reason: str


class ClassResult(BaseModel):
    """A whole batch: every student's results, plus what was skipped or escaped.

    `notes` maps a student id to sentences about that id (e.g. how a CSV writes it).
    """

    model_config = DEFERRED

    course: str
    exercises: list[ExerciseInfo]
    students: list[StudentResult]
    skipped: list[Skipped] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)
