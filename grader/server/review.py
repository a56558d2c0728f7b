"""The console's records as the batch's rows: adjustments are overrides.csv lines and
extensions are extensions.csv lines, applied by grader.batch.adjust, never re-implemented."""

from __future__ import annotations

from datetime import datetime

from grader.batch.adjust import Adjuster, Override
from grader.batch.adjust import Extension as ExtensionRow
from grader.course import Course as CourseModel
from grader.results import ClassResult, ExerciseInfo, ExerciseResult, StudentResult
from grader.server import reads
from grader.server.models import (
    Adjustment,
    Course,
    Extension,
    Learner,
    RubricMark,
)


def overrides(course: Course, learner: Learner | None = None) -> list[Override]:
    """The console's adjustments of `course` (of one learner), oldest first."""
    rows = Adjustment.objects.filter(course=course).select_related("learner").order_by("at", "id")
    if learner is not None:
        rows = rows.filter(learner=learner)
    return [Override(student=a.learner.student, exercise=a.exercise, check=a.check,
                     points=a.points, reason=a.reason, by=a.by) for a in rows]


def extensions(course: Course, learner: Learner | None = None) -> list[ExtensionRow]:
    """The console's extensions of `course` (of one learner), oldest first."""
    rows = Extension.objects.filter(course=course).select_related("learner").order_by("at", "id")
    if learner is not None:
        rows = rows.filter(learner=learner)
    return [ExtensionRow(student=x.learner.student, exercise=x.exercise, deadline=x.deadline,
                         reason=x.reason) for x in rows]


Scores = dict[tuple[str, str], tuple[float, float]]  # (student, exercise) -> (raw, max)


def rubric(course: Course, scores: Scores, learner: Learner | None = None) -> list[Override]:
    """The rubric marks of `course` as overrides.csv lines of the exercise: the checks'
    score plus the marked items' points (between 0 and the exercise's points). Read
    when applied, so a change to an item reaches every submission marked with it; the
    TA's own adjustments come after these, so an explicit number wins."""
    marks = RubricMark.objects.filter(item__course=course).select_related("item", "learner")
    if learner is not None:
        marks = marks.filter(learner=learner)
    grouped: dict[tuple[str, str], list[RubricMark]] = {}
    for mark in marks.order_by("item__key"):
        grouped.setdefault((mark.learner.student, mark.item.exercise), []).append(mark)
    rows = []
    for (student, exercise), found in grouped.items():
        if (student, exercise) not in scores:
            continue
        raw, top = scores[student, exercise]
        total = min(top, max(0.0, raw + sum(m.item.points for m in found)))
        why = "rubric: " + "; ".join(f"{m.item.label} ({m.item.points:+g})" for m in found)
        rows.append(Override(student=student, exercise=exercise, points=round(total, 6),
                             reason=why, by=max(found, key=lambda m: m.at).by))
    return rows


def published(course: Course, exercise: str) -> bool:
    """Whether learners see `exercise`'s hidden checks and final grades."""
    return course.hidden_published or reads.published(course.id, exercise)


class _When:
    """One learner as the late policy sees them (batch.adjust.Timed)."""

    def __init__(self, student: str, exercise: str, at: datetime) -> None:
        self.id = student
        self.times = {exercise: at}
        self.late = False


def settled(model: CourseModel, course: Course, learner: Learner, result: ExerciseResult,
            received: datetime) -> ExerciseResult:
    """`result` made final as `grade batch` makes it: the learner's adjustments and
    extensions, the deadline and the late policy, with every reason."""
    exercise = model.exercise(result.exercise)
    info = ExerciseInfo(id=result.exercise, title=exercise.title if exercise else result.exercise,
                        max_score=result.max_score)
    one = ClassResult(course=model.title, exercises=[info],
                      students=[StudentResult(student=learner.student, exercises=[result])])
    marked = rubric(course, {(learner.student, result.exercise): (result.score,
                                                                   result.max_score)}, learner)
    adjuster = Adjuster(model, extensions(course, learner),
                        [*marked, *overrides(course, learner)])
    done = adjuster.apply(one, [_When(learner.student, result.exercise, received)])
    return done.students[0].exercises[0]
