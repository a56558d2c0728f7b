"""From graded scores to final ones: deadlines and late policy (course.yaml),
`extensions.csv` and `overrides.csv`, applied afresh to the journal's results on every
run, so a moved deadline or a withdrawn override is never stale.

Order, per student and exercise: the checks' score (raw); a TA's overrides (a check's
points, or the exercise's); then the late penalty on that; the final score is never
below 0. Every step leaves a reason the student and the TA see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import ConfigDict, Field

from grader.batch.lean import share_field_names
from grader.course import Course
from grader.course.late import describe, lateness
from grader.models import Model
from grader.reports.cells import points
from grader.results import Adjustment, ClassResult, ExerciseResult

# The tables' readers and --submitted-at's times: imported only to read one (3.5 ms of
# imports otherwise spent while the workers grade: a batch imports this module then).
if TYPE_CHECKING:
    from grader.batch.submitted import Times

EVERY = ("", "*")  # an extension's exercise column: blank or * means every exercise


class Extension(Model):
    """One line of extensions.csv: a new deadline for one student (and exercise)."""

    model_config = ConfigDict(extra="forbid")

    student: str = Field(min_length=1)
    exercise: str = Field("", description="blank or * for every exercise")
    deadline: datetime = Field(description="ISO 8601; without a zone, the course deadline's")
    reason: str = ""


class Override(Model):
    """One line of overrides.csv: a TA's score for an exercise, or for one check."""

    model_config = ConfigDict(extra="forbid")

    student: str = Field(min_length=1)
    exercise: str = Field(min_length=1)
    check: str = Field("", description="blank: the points are the exercise's score")
    points: float = Field(ge=0)
    reason: str = Field(min_length=1)
    by: str = ""


class Timed(Protocol):
    """What the late policy needs of a student: a StudentFolder, or a shard's record of
    one (grader.batch.shard.Handed)."""

    @property
    def id(self) -> str: ...

    @property
    def times(self) -> Mapping[str, datetime]:
        """Exercise id -> when its file was handed in, where the download records it."""
        ...

    @property
    def late(self) -> bool:
        """The LMS marks the work late but records no time."""
        ...


def read_extensions(path: Path) -> list[Extension]:
    from grader.batch.tables import read_table

    return read_table(path, Extension, {"id": "student", "new_deadline": "deadline"})


def read_overrides(path: Path) -> list[Override]:
    from grader.batch.tables import read_table

    return read_table(path, Override, {"id": "student", "score": "points"})


def _zoned(moment: datetime, like: datetime | None) -> datetime:
    if moment.tzinfo:
        return moment
    return moment.replace(tzinfo=like.tzinfo if like else timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Adjuster:
    """Applies one run's policy, extensions and overrides; collects the TA's warnings."""

    def __init__(self, course: Course, extensions: list[Extension],
                 overrides: list[Override], elsewhere: frozenset[str] = frozenset(),
                 times: Times | None = None) -> None:
        self.course = course
        # --submitted-at: the LMS's export of times. None without it: its module is not
        # imported after the last result (5 ms of pydantic models, the batch's tail).
        self.times = times
        self.extensions = extensions
        self.overrides = overrides
        self.elsewhere = elsewhere  # a shard's: the class's students other shards settle
        self.warnings: list[str] = []
        self.active = bool(extensions or overrides or course.deadline
                           or any(e.deadline for e in course.exercises))

    def apply(self, result: ClassResult, students: Iterable[Timed]) -> ClassResult:
        """`result` with every exercise's score made final and its Adjustment set."""
        if not self.active:
            return result
        folders = {s.id: s for s in students}
        known = {s.student for s in result.students}
        ids = {e.id for e in result.exercises}
        rows: list[Extension | Override] = [*self.extensions, *self.overrides]
        given = self.times.strangers(known) if self.times else []
        strangers = [s for s in given if s not in self.elsewhere]
        if strangers:
            self.warnings.append(f"--submitted-at: no such student in this batch: "
                                 f"{', '.join(map(repr, strangers))}; ignored")
        for row in rows:
            if row.student in self.elsewhere:
                continue  # that student's shard warns about the row, if it must
            if row.student not in known:
                self.warnings.append(f"{type(row).__name__.lower()} for {row.student!r}: no "
                                     "such student in this batch; ignored")
            elif row.exercise not in (*EVERY, *ids) or (
                    isinstance(row, Override) and row.exercise not in ids):
                self.warnings.append(f"{type(row).__name__.lower()} for {row.student!r}: no "
                                     f"exercise {row.exercise!r} in this batch; ignored")
        # A deep copy of the class doubled what a batch holds (3000 results, and a new
        # field-name set for each of their checks); only the exercises' results change
        # (a check only when overridden), so only they are copied.
        adjusted = result.model_copy(update={"students": []}).model_copy(deep=True)
        adjusted.students = [student.model_copy(update={"exercises": [
            self._exercise(student.student, folders.get(student.student), _copied(e))
            for e in student.exercises]}) for student in result.students]
        return adjusted

    def _deadline(self, student: str, exercise_id: str) -> tuple[datetime | None, str | None]:
        exercise = self.course.exercise(exercise_id)
        base = self.course.deadline_for(exercise) if exercise else None
        granted = [x for x in self.extensions if x.student == student
                   and x.exercise in (*EVERY, exercise_id)]
        if not granted:
            return base, None
        best = max(granted, key=lambda x: (x.exercise == exercise_id,))  # the exercise's own
        moment = _zoned(best.deadline, base)
        return moment, f"extension to {_stamp(moment)}" + (f": {best.reason}"
                                                          if best.reason else "")

    def _exercise(self, student: str, folder: Timed | None, result: ExerciseResult
                  ) -> ExerciseResult:
        reasons: list[str] = []
        raw = result.score
        self._override_checks(student, result, reasons)
        self._override_exercise(student, result, reasons)
        overridden = result.score
        deadline, extension = self._deadline(student, result.exercise)
        given = self.times.of(student, result.exercise) if self.times else None  # the TA's wins
        submitted = (_zoned(given, deadline) if given else
                     folder.times.get(result.exercise) if folder else None)
        penalty, refused = 0.0, False
        if extension:
            reasons.append(extension)
        if deadline and result.submitted:
            if submitted is None and folder is not None and folder.late:
                settled = "extension" if extension else "override" if self._rows(
                    student, result.exercise) else None
                penalty, refused = self._marked_late(student, result, settled, reasons)
            elif submitted is not None:
                penalty, refused = self._late(result, deadline, submitted, reasons)
        final = 0.0 if refused else max(0.0, overridden - penalty)
        result.score = round(final, 6)
        result.adjustment = Adjustment(raw=raw, override=round(overridden - raw, 6),
                                       penalty=round(overridden - final if refused else
                                                     min(penalty, overridden), 6),
                                       final=result.score, submitted_at=submitted,
                                       deadline=deadline, reasons=reasons)
        return result

    def _marked_late(self, student: str, result: ExerciseResult, settled: str | None,
                     reasons: list[str]) -> tuple[float, bool]:
        """Work the LMS marks late without a time: what course.yaml's `marked_late`
        says it costs, unless the TA's extension or override settled it."""
        exercise = self.course.exercise(result.exercise)
        assert exercise is not None
        policy = self.course.late_policy_for(exercise)
        said = "marked late by the LMS, without a time"
        if settled:
            reasons.append(f"{said}: settled by the {settled}")
            return 0.0, False
        if policy.marked_late is None:
            self.warnings.append(
                f"{student}, {result.exercise}: the download marks it late but records "
                "no time, so no late penalty was applied (give the LMS's times with "
                "--submitted-at, set late_policy.marked_late in course.yaml, or add an "
                "override or an extension to settle it)")
            reasons.append(f"{said}: no penalty applied")
            return 0.0, False
        if policy.marked_late == 0:
            reasons.append(f"{said}: the course charges no penalty for it")
            return 0.0, False
        if not policy.accepted:
            reasons.append(f"{said}: late work is not accepted, so it scores 0")
            return 0.0, True
        periods = policy.marked_late
        percent = min(policy.cap_percent, periods * policy.penalty_percent)
        penalty = round(result.max_score * percent / 100, 6)
        reasons.append(f"{said}: counted as {periods} {policy.per}{'s' * (periods != 1)} "
                       f"late, -{points(penalty)} points")
        return penalty, False

    def _late(self, result: ExerciseResult, deadline: datetime, submitted: datetime,
              reasons: list[str]) -> tuple[float, bool]:
        exercise = self.course.exercise(result.exercise)
        assert exercise is not None
        late = lateness(self.course.late_policy_for(exercise), deadline, submitted,
                        result.max_score)
        if late.late_by <= timedelta(0):  # on time, or early: nothing to say
            return 0.0, False
        policy = self.course.late_policy_for(exercise)
        when = f"submitted {_stamp(submitted)}, {describe(late.late_by)} after the deadline"
        if late.on_time:
            reasons.append(f"{when}: within the {policy.grace_minutes:g} min grace")
        elif late.refused:
            reasons.append(f"{when}: late work is not accepted, so it scores 0")
        else:
            reasons.append(f"{when}: {late.periods} {policy.per}{'s' * (late.periods != 1)} "
                           f"late, -{points(late.penalty)} points")
        return late.penalty, late.refused

    def _rows(self, student: str, exercise: str) -> list[Override]:
        return [o for o in self.overrides if o.student == student and o.exercise == exercise]

    def _override_checks(self, student: str, result: ExerciseResult, reasons: list[str]
                         ) -> None:
        for row in self._rows(student, result.exercise):
            if not row.check:
                continue
            index = next((i for i, c in enumerate(result.checks) if c.name == row.check), -1)
            if index < 0:
                self.warnings.append(f"override for {student}, {result.exercise}: no check "
                                     f"named {row.check!r} (any more); ignored")
                continue
            check = result.checks[index]
            if row.points > check.max_score:
                self.warnings.append(f"override for {student}, {result.exercise}, "
                                     f"{row.check!r}: {points(row.points)} points is more "
                                     f"than the check's {points(check.max_score)}; ignored")
                continue
            reasons.append(f"override of \u201c{check.name}\u201d: {points(check.score)} -> "
                           f"{points(row.points)} points: {row.reason}"
                           + (f" ({row.by})" if row.by else ""))
            # the graded result's check is the caller's: the adjusted one gets a copy
            check = check.model_copy(update={"score": row.points,
                                             "passed": row.points >= check.max_score})
            result.checks = [*result.checks[:index], check, *result.checks[index + 1:]]
        result.score = round(sum(c.score for c in result.checks), 6) if any(
            o.check for o in self._rows(student, result.exercise)) else result.score

    def _override_exercise(self, student: str, result: ExerciseResult, reasons: list[str]
                           ) -> None:
        for row in self._rows(student, result.exercise):
            if row.check:
                continue
            if row.points > result.max_score:
                self.warnings.append(f"override for {student}, {result.exercise}: "
                                     f"{points(row.points)} points is more than the "
                                     f"exercise's {points(result.max_score)}; ignored")
                continue
            reasons.append(f"override: {points(result.score)} -> {points(row.points)} points: "
                           f"{row.reason}" + (f" ({row.by})" if row.by else ""))
            result.score = row.points


def _copied(result: ExerciseResult) -> ExerciseResult:
    """A copy of `result` to adjust: its own score and adjustment, the same checks."""
    copy = result.model_copy()
    share_field_names(copy)  # a copy has a field-name set of its own again
    return copy
