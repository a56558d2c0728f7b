"""The models behind course.yaml: the single source of truth for its format.

`grade schema` prints `Course.model_json_schema()`; nothing else describes the file.
"""

# No `from __future__ import annotations`: each field annotation given as text is compiled
# and evaluated by pydantic as the class is made (~0.1 ms a field, before a batch forks).
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field, PrivateAttr, model_validator

from grader.models import Model

# A misspelled key in course.yaml is an error, not silently ignored. (Like every model,
# these build their validators on first use: see grader/models.py.)
STRICT = ConfigDict(extra="forbid")


class DuplicateIdError(ValueError):
    """Two exercises share an id (a type, so `grade check` can place it itself)."""


class Limits(Model):
    """How much one submission may use. Every field can be set per course or exercise."""

    model_config = STRICT

    time_limit: float = Field(10.0, gt=0, le=600, description="wall-clock seconds per submission")
    memory_mb: int = Field(512, ge=128, le=16384, description="address space of the box, MiB")
    file_size_kb: int = Field(1024, ge=0, description="largest file learner code may write")
    output_chars: int = Field(20_000, ge=0, description="printed output kept for the report")
    max_source_kb: int = Field(256, gt=0, description="largest submission file accepted")
    disk_kb: int = Field(8192, ge=64, le=1_048_576,
                         description="all files learner code may write, together (KiB)")
    disk_files: int = Field(256, ge=8, le=100_000,
                            description="files and folders learner code may create")


class LatePolicy(Model):
    """What work handed in after its deadline is worth (grader.course.late computes it)."""

    model_config = STRICT

    grace_minutes: float = Field(0, ge=0, description="lateness forgiven entirely")
    penalty_percent: float = Field(
        0, ge=0, le=100,
        description="percent of the exercise's points taken per started period late")
    per: Literal["day", "hour"] = Field("day", description="the period of penalty_percent")
    cap_percent: float = Field(100, ge=0, le=100, description="the most a late penalty takes")
    accepted: bool = Field(True, description="false: late work (past the grace) scores 0")
    marked_late: int | None = Field(
        None, ge=0, le=1000,
        description="started periods charged for work the LMS marks late without a time "
        "(a Canvas _LATE_ file with no --submitted-at row): 1 charges one period, 0 none; "
        "unset: no penalty, and the TA is warned")


class Withheld(Model):
    """What a learner's release leaves out of an exercise: its hidden checks (`grade release`)."""

    model_config = STRICT

    checks: int = Field(gt=0, description="how many hidden checks run when work is graded")
    points: float = Field(gt=0, description="their points")


class EquivalentMutant(Model):
    """A mutant `grade check --mutants` should not count: it behaves like the solution."""

    model_config = STRICT

    code: str = Field(min_length=1, description="text of the solution line the mutants change")
    mutant: str | None = Field(None, description="an operator (compare, constant, swap, return, "
                               "drop, dict, random) or text of the mutated line; every mutant "
                               "of the line when omitted")
    reason: str = Field(min_length=1, description="why no check can tell it from the solution")


class Exercise(Model):
    """One exercise: the learner's file, the reference solution, the hidden checks."""

    model_config = STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", description="e.g. exercise-1")
    title: str = Field(min_length=1)
    file: str = Field(pattern=r"^[\w.-]+\.py$", description="learner file in exercises/")
    solution: str | None = Field(None, pattern=r"^[\w.-]+\.py$",
                                 description="reference file in solutions/ (none in a release)")
    checks: str = Field(pattern=r"^[\w./-]+\.py$", description="checks file, from the course root")
    points: float | None = Field(None, gt=0, description="total points; must equal the checks' sum")
    limits: Limits | None = Field(None, description="overrides the course's limits")
    learned: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[^\n]*$",
                                description="one line: what the exercise taught, shown to the "
                                "learner at full marks")
    deadline: AwareDatetime | None = Field(
        None, description="overrides the course's deadline, e.g. 2026-12-01T23:59:00+01:00")
    late_policy: LatePolicy | None = Field(None, description="overrides the course's policy")
    withheld: Withheld | None = Field(None, description="hidden checks a release leaves out")
    equivalent_mutants: list[EquivalentMutant] = Field(
        default_factory=list, description="mutants of the solution that behave like it "
        "(also: '# EQUIVALENT MUTANT: reason' above the line in the solution)")


class Course(Model):
    """The whole course.yaml."""

    model_config = STRICT

    title: str = Field(min_length=1)
    exercises_dir: str = "exercises"
    solutions_dir: str = "solutions"
    limits: Limits = Field(default_factory=Limits)
    deadline: AwareDatetime | None = Field(
        None, description="when work is due, with its time zone: 2026-12-01T23:59:00+01:00")
    late_policy: LatePolicy = Field(default_factory=LatePolicy)
    counts: Literal["last", "best"] = Field(
        "last", description="which graded submission of an exercise counts on `grade serve`: "
        "the last or the best-scoring (the newer of a tie), before the deadline rules")
    release: bool = Field(False, description="a learner's copy written by `grade release`")
    exercises: list[Exercise] = Field(min_length=1)

    _root: Path = PrivateAttr(default=Path("."))

    @model_validator(mode="after")
    def _unique_ids(self) -> "Course":
        seen: set[str] = set()
        for exercise in self.exercises:
            if exercise.id in seen:
                raise DuplicateIdError(f"exercise id {exercise.id!r} is used twice")
            seen.add(exercise.id)
        return self

    @property
    def root(self) -> Path:
        return self._root

    def located(self, root: Path) -> "Course":
        """This course, its exercises, solutions and checks read from the folder `root`
        (course.yaml's own folder when loaded; a copy elsewhere on a Dask worker)."""
        self._root = root
        return self

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def limits_for(self, exercise: Exercise) -> Limits:
        """The course's limits, with the fields the exercise sets overriding them."""
        if exercise.limits is None:
            return self.limits
        given = exercise.limits
        return self.limits.model_copy(update={n: getattr(given, n) for n in given.model_fields_set})

    def deadline_for(self, exercise: Exercise) -> datetime | None:
        return exercise.deadline or self.deadline

    def late_policy_for(self, exercise: Exercise) -> LatePolicy:
        return exercise.late_policy or self.late_policy

    def learner_path(self, exercise: Exercise) -> Path:
        return self._root / self.exercises_dir / exercise.file

    def solution_path(self, exercise: Exercise) -> Path:
        if exercise.solution is None:  # callers check exercise.solution first
            raise ValueError(f"{exercise.id} has no solution here (a learner's release?)")
        return self._root / self.solutions_dir / exercise.solution

    def checks_path(self, exercise: Exercise) -> Path:
        return self._root / exercise.checks
