"""What grading produces: the pydantic models behind every report and export.

`ExerciseResult` is the `--json` contract of SPEC.md; `StudentResult` is one row
of a batch. Exporters and renderers read these and nothing else.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

NO_SUBMISSION = "no submission"  # the error of a student's missing file (SPEC.md)
# Errors that are the grader's fault, not the learner's: a batch grades these again.
GRADER_FAULT = ("the grader's sandbox failed", "the grader failed on this file")


class CheckResult(BaseModel):
    """One check's verdict, as a learner sees it."""

    name: str
    passed: bool
    score: float
    max_score: float
    message: str
    hint: str | None = None
    detail: str | None = Field(None, description="e.g. a text histogram, shown verbatim")


class Adjustment(BaseModel):
    """How a graded (raw) score became the final one in a batch, with every reason:
    a late penalty, a TA's override, an extension. Recomputed on every run."""

    raw: float = Field(description="the score the checks gave")
    override: float = Field(0.0, description="points a TA's overrides added (or took)")
    penalty: float = Field(0.0, ge=0, description="points taken for lateness")
    final: float
    submitted_at: datetime | None = None
    deadline: datetime | None = Field(None, description="the deadline that applied")
    reasons: list[str] = Field(default_factory=list)


class ExerciseResult(BaseModel):
    """One submission of one exercise. `error` is set when it could not be graded."""

    exercise: str
    score: float
    max_score: float
    error: str | None
    checks: list[CheckResult]
    output: str = Field("", description="what the learner's code printed (capped)")
    seconds: float = Field(0.0, description="wall time spent grading")
    adjustment: Adjustment | None = Field(
        None, description="in a batch with deadlines or overrides: raw -> final, and why")

    @property
    def grader_fault(self) -> bool:
        """The grader, not the submission, failed: the score says nothing about the work."""
        return self.error is not None and self.error.startswith(GRADER_FAULT)

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


class ExerciseInfo(BaseModel):
    """An exercise as a class report names it."""

    id: str
    title: str
    max_score: float


class Skipped(BaseModel):
    """A folder of a batch that was not graded, and why (shown to the TA)."""

    name: str = Field(description="the folder name; unprintable characters as \\n, \\x07, ...")
    reason: str


class Person(BaseModel):
    """Who a student is, from the roster or the LMS download: the exports' id columns."""

    name: str = ""
    email: str = ""
    sis_id: str = ""
    sis_login: str = ""
    section: str = ""
    on_roster: bool = True


class ClassResult(BaseModel):
    """A whole batch: every student's results, plus what was skipped or escaped.

    `notes` maps a student id to sentences about that id (e.g. how a CSV writes it).
    """

    course: str
    exercises: list[ExerciseInfo]
    students: list[StudentResult]
    skipped: list[Skipped] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    not_on_roster: list[str] = Field(default_factory=list, description="graded all the same")

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)


class Change(BaseModel):
    """One line of changes.csv: a score that moved. `check` is empty for the
    exercise's final score; `old` or `new` is None for a result that appeared or
    went away."""

    student: str
    exercise: str
    check: str
    old: float | None
    new: float | None
    why: str
