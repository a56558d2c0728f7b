"""Deadline, extension and override arithmetic at its boundaries (no grading needed:
the adjustments apply to results as the journal holds them)."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.batch.adjust import Adjuster, Extension, Override, read_overrides
from grader.batch.discover import StudentFolder
from grader.batch.tables import TableError
from grader.course import Course, LatePolicy, load_course
from grader.course.late import lateness
from grader.results import CheckResult, ClassResult, ExerciseInfo, ExerciseResult, StudentResult
from tests.conftest import ROOT

UTC = timezone.utc
DEADLINE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
DAILY = LatePolicy(penalty_percent=10, per="day")


@pytest.mark.parametrize(("policy", "late_by", "periods", "penalty", "refused"), [
    (DAILY, timedelta(0), 0, 0.0, False),  # on the deadline: on time
    (DAILY, timedelta(seconds=-1), 0, 0.0, False),
    (DAILY, timedelta(seconds=1), 1, 1.0, False),  # one second late: one day
    (DAILY, timedelta(days=1), 1, 1.0, False),
    (DAILY, timedelta(days=1, seconds=1), 2, 2.0, False),
    (LatePolicy(grace_minutes=15, penalty_percent=10), timedelta(minutes=15), 0, 0.0, False),
    (LatePolicy(grace_minutes=15, penalty_percent=10), timedelta(minutes=15, seconds=1),
     1, 1.0, False),  # past the grace, counted from the deadline
    (LatePolicy(penalty_percent=5, per="hour"), timedelta(hours=2, seconds=1), 3, 1.5, False),
    (LatePolicy(penalty_percent=10, cap_percent=50), timedelta(days=9), 9, 5.0, False),
    (LatePolicy(penalty_percent=10, cap_percent=50), timedelta(days=5), 5, 5.0, False),
    (LatePolicy(accepted=False), timedelta(seconds=1), 0, 0.0, True),
    (LatePolicy(accepted=False, grace_minutes=1), timedelta(seconds=60), 0, 0.0, False),
])
def test_lateness_at_the_boundaries(policy: LatePolicy, late_by: timedelta, periods: int,
                                    penalty: float, refused: bool) -> None:
    late = lateness(policy, DEADLINE, DEADLINE + late_by, max_score=10)
    assert (late.periods, late.penalty, late.refused) == (periods, penalty, refused)


def _course(tmp_path: Path, policy: str) -> Course:
    text = (ROOT / "course.yaml").read_text().replace(
        "limits:\n", f"deadline: {DEADLINE.isoformat()}\nlate_policy:\n{policy}limits:\n", 1)
    (tmp_path / "course.yaml").write_text(text)
    return load_course(tmp_path / "course.yaml")


def _class(score: float) -> ClassResult:
    """One student, ann, with exercise 1 graded: the sum check (2 points) failed."""
    checks = [CheckResult(name="The weights add up to 1", passed=False, score=0, max_score=2,
                          message="the weights add up to 1.1"),
              CheckResult(name="Everything else", passed=True, score=score, max_score=8,
                          message="ok")]
    result = ExerciseResult(exercise="exercise-1", score=score, max_score=10, error=None,
                            checks=checks)
    return ClassResult(course="c", exercises=[ExerciseInfo(id="exercise-1", title="t",
                                                           max_score=10)],
                       students=[StudentResult(student="ann", exercises=[result])])


def _final(course: Course, submitted: datetime | None, *, extensions: list[Extension] = (),
           overrides: list[Override] = (), score: float = 8.0) -> tuple[ExerciseResult, list[str]]:
    ann = StudentFolder("ann", Path("ann"), times={"exercise-1": submitted} if submitted else {})
    adjuster = Adjuster(course, list(extensions), list(overrides))
    result = adjuster.apply(_class(score), [ann])
    return result.students[0].exercises[0], adjuster.warnings


def test_one_second_late_costs_one_day_and_says_so(tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    result, warnings = _final(course, DEADLINE + timedelta(seconds=1))
    assert result.score == 7 and warnings == []
    assert result.adjustment is not None
    assert (result.adjustment.raw, result.adjustment.penalty, result.adjustment.final) == (8, 1, 7)
    assert result.adjustment.reasons == [
        "submitted 2026-12-01T23:59:01+00:00, 1 s after the deadline: 1 day late, -1 points"]


def test_the_grace_edge_is_on_time_and_one_second_more_is_not(tmp_path: Path) -> None:
    course = _course(tmp_path, "  grace_minutes: 10\n  penalty_percent: 25\n  per: hour\n")
    edge, _ = _final(course, DEADLINE + timedelta(minutes=10))
    assert edge.score == 8 and edge.adjustment and edge.adjustment.penalty == 0
    assert edge.adjustment.reasons == ["submitted 2026-12-02T00:09:00+00:00, 10 min after the "
                                       "deadline: within the 10 min grace"]
    past, _ = _final(course, DEADLINE + timedelta(minutes=10, seconds=1))
    assert past.score == 5.5  # one started hour: 25% of 10 points


def test_the_cap_limits_the_penalty_and_not_accepted_scores_zero(tmp_path: Path) -> None:
    capped = _course(tmp_path, "  penalty_percent: 20\n  cap_percent: 30\n")
    result, _ = _final(capped, DEADLINE + timedelta(days=30))
    assert (result.score, result.adjustment.penalty) == (5, 3)  # type: ignore[union-attr]
    refused = _course(tmp_path, "  accepted: false\n")
    result, _ = _final(refused, DEADLINE + timedelta(seconds=1))
    assert result.score == 0 and result.adjustment.penalty == 8  # type: ignore[union-attr]
    assert result.adjustment.reasons[-1].endswith("late work is not accepted, so it scores 0")


def test_an_extension_granted_after_the_deadline_makes_late_work_on_time(tmp_path: Path
                                                                        ) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    granted = Extension(student="ann", exercise="", deadline=datetime(2026, 12, 3, 12, 0),
                        reason="ill, note from the doctor")
    result, warnings = _final(course, DEADLINE + timedelta(days=1), extensions=[granted])
    assert result.score == 8 and warnings == []
    assert result.adjustment.deadline == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # type: ignore[union-attr]
    assert result.adjustment.reasons == [  # type: ignore[union-attr]
        "extension to 2026-12-03T12:00:00+00:00: ill, note from the doctor"]
    after, _ = _final(course, datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC), extensions=[granted])
    assert after.score == 7  # one second past the extension: one day late


def test_overrides_set_a_check_or_the_exercise_then_the_penalty_applies(tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    check = Override(student="ann", exercise="exercise-1", check="The weights add up to 1",
                     points=2, reason="1.1 was a rounding slip", by="ta-kim")
    result, warnings = _final(course, DEADLINE + timedelta(hours=1), overrides=[check])
    assert warnings == []
    assert result.checks[0].score == 2 and result.checks[0].passed
    assert (result.adjustment.raw, result.adjustment.override,  # type: ignore[union-attr]
            result.adjustment.penalty, result.score) == (8, 2, 1, 9)
    whole = Override(student="ann", exercise="exercise-1", points=4, reason="copied", by="prof")
    result, _ = _final(course, None, overrides=[whole])
    assert (result.adjustment.override, result.score) == (-4, 4)  # type: ignore[union-attr]
    assert result.adjustment.reasons == ["override: 8 -> 4 points: copied (prof)"]  # type: ignore[union-attr]


def test_an_override_of_a_check_that_no_longer_exists_is_ignored_with_a_warning(
        tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    gone = Override(student="ann", exercise="exercise-1", check="An old check", points=1,
                    reason="r")
    too_many = Override(student="ann", exercise="exercise-1", check="Everything else",
                        points=9, reason="r")
    nobody = Override(student="bob", exercise="exercise-1", points=1, reason="r")
    result, warnings = _final(course, None, overrides=[gone, too_many, nobody])
    assert result.score == 8
    assert warnings == [
        "override for 'bob': no such student in this batch; ignored",
        "override for ann, exercise-1: no check named 'An old check' (any more); ignored",
        "override for ann, exercise-1, 'Everything else': 9 points is more than the check's "
        "8; ignored"]


def test_a_bad_overrides_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("student,exercise,check,points,reason,by\nann,exercise-1,,7,ok,ta\n"
                    "ben,exercise-1,,seven,typo,ta\n")
    with pytest.raises(TableError, match=r"overrides.csv, line 3: points: Input should be a "
                                         r"valid number"):
        read_overrides(path)
    path.write_text("student,exercise,points\nann,exercise-1,7\n")
    with pytest.raises(TableError, match="no reason column"):
        read_overrides(path)


def _marked(course: Course, *, extensions: list[Extension] = (),
            overrides: list[Override] = ()) -> tuple[ExerciseResult, list[str]]:
    """ann's exercise 1 (raw 8), marked late by the LMS with no time."""
    ann = StudentFolder("ann", Path("ann"), late=True)
    adjuster = Adjuster(course, list(extensions), list(overrides))
    return adjuster.apply(_class(8.0), [ann]).students[0].exercises[0], adjuster.warnings


@pytest.mark.parametrize(("policy", "final", "reason", "warned"), [
    ("  penalty_percent: 10\n", 8, "no penalty applied", True),  # unset: the TA decides
    ("  penalty_percent: 10\n  marked_late: 0\n", 8, "the course charges no penalty", False),
    ("  penalty_percent: 10\n  marked_late: 2\n", 6, "counted as 2 days late, -2 points",
     False),
    ("  penalty_percent: 10\n  cap_percent: 15\n  marked_late: 3\n", 6.5,
     "counted as 3 days late, -1.5 points", False),
    ("  accepted: false\n  marked_late: 1\n", 0, "late work is not accepted", False),
])
def test_a_late_mark_without_a_time_costs_what_course_yaml_says(
        tmp_path: Path, policy: str, final: float, reason: str, warned: bool) -> None:
    result, warnings = _marked(_course(tmp_path, policy))
    assert result.score == final, (result.score, final)
    assert result.adjustment is not None and any(reason in r for r in result.adjustment.reasons)
    assert bool(warnings) is warned, warnings


def test_an_extension_settles_a_late_mark_without_a_warning(tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    granted = Extension(student="ann", deadline=DEADLINE + timedelta(days=2))
    result, warnings = _marked(course, extensions=[granted])
    assert (result.score, warnings) == (8, [])
    assert result.adjustment is not None
    assert "marked late by the LMS, without a time: settled by the extension" in \
        result.adjustment.reasons
    assert not any("no penalty applied" in r for r in result.adjustment.reasons)



def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_adjusting_a_class_copies_its_results_not_their_checks(tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    graded = _class(8.0)
    student = graded.students[0]
    student.exercises = [student.exercises[0].model_copy(deep=True) for _ in range(300)]
    late = [StudentFolder("ann", Path("ann"), times={"exercise-1": DEADLINE + timedelta(days=1)})]
    gc.collect()
    tracemalloc.start()
    adjusted = Adjuster(course, [], []).apply(graded, late)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    scores = {e.score for e in adjusted.students[0].exercises}
    assert scores == {7.0}, fail(scores, {7.0}, "each result one day late: -1")
    # 300 results of 2 checks: a deep copy of the class held about 4.7 KB a result
    assert held / 300 < 2500, fail(f"{held / 300:.0f} bytes a result", "< 2500",
                                   "the adjusted class shares the checks it does not change")


def test_an_override_of_a_check_leaves_the_graded_class_as_it_was(tmp_path: Path) -> None:
    course = _course(tmp_path, "  penalty_percent: 10\n")
    graded = _class(8.0)
    before = graded.model_dump_json()
    override = Override(student="ann", exercise="exercise-1", check="The weights add up to 1",
                        points=2, reason="regraded by hand")
    ann = [StudentFolder("ann", Path("ann"), times={"exercise-1": DEADLINE})]
    adjusted = Adjuster(course, [], [override]).apply(graded, ann).students[0].exercises[0]
    assert (adjusted.score, adjusted.checks[0].score) == (10.0, 2.0), fail(
        (adjusted.score, adjusted.checks[0].score), (10.0, 2.0), "the check overridden to 2")
    assert graded.model_dump_json() == before, fail(
        graded.model_dump_json(), before, "the adjusted class is a copy: the graded one "
        "(the journal's) keeps the check's 0")
