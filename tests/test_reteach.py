"""What to reteach: blanks, files that could not run and wrong answers are told apart.

A class of real gradings of exercise 1: a file that never ran must not make a
check look hard, and each check shows the wrong answer most files gave, counted
from the data the check failed with (for a frequency check: which outcome came up
too often or too rarely), never parsed from its message.
"""

from __future__ import annotations

import pytest

from grader.reports.html import report_html
from grader.reports.reteach import Attempt, check_failures, exercise_attempts
from grader.results import ClassResult, ErrorKind, ExerciseInfo, StudentResult
from tests.conftest import ROOT

SOLUTION = (ROOT / "solutions" / "exercise_1_weighted_sampling.py").read_text()
FLIPPED = SOLUTION.replace("r < cumulative", "r > cumulative")
FILES = {
    "blank": (ROOT / "exercises" / "exercise_1_weighted_sampling.py").read_text(),
    "syntax": SOLUTION.replace("cumulative = 0.0", "cumulative = (0.0"),
    "raises": SOLUTION.replace("weather = {", "1 / 0\nweather = {"),
    "flipped-1": FLIPPED,
    "flipped-2": FLIPPED,
    "heavy": SOLUTION.replace('"cloudy": 0.3', '"cloudy": 0.4'),
    "right": SOLUTION,
}


@pytest.fixture(scope="module")
def klass(grader, course) -> ClassResult:
    exercise = course.exercises[0]
    return ClassResult(
        course=course.title,
        exercises=[ExerciseInfo(id=exercise.id, title=exercise.title, max_score=10)],
        students=[StudentResult(student=name, exercises=[
            grader.grade_source(exercise, text, "exercise_1_weighted_sampling.py")])
            for name, text in FILES.items()])


def test_blanks_crashes_and_wrong_answers_are_counted_apart(klass: ClassResult) -> None:
    (found,) = exercise_attempts(klass)
    assert found.attempts == {Attempt.MISSING: 0, Attempt.NOT_ATTEMPTED: 1,
                              Attempt.COULD_NOT_RUN: 2, Attempt.GRADER_FAULT: 0,
                              Attempt.ANSWERED_WRONG: 3, Attempt.FULL_MARKS: 1}
    assert found.could_not_run == {ErrorKind.SYNTAX: 1, ErrorKind.RAISED: 1}
    assert found.ran == 4


def test_checks_rank_by_failures_among_the_files_that_ran(klass: ClassResult) -> None:
    ranked = [(f.name, f.failed, f.ran) for f in check_failures(klass)]
    assert ranked[0] == ("Draws from weather follow its weights", 3, 4)
    assert set(ranked[1:3]) == {("Draws from another distribution follow its weights", 2, 4),
                                ("Draws from distributions you never saw follow their weights",
                                 2, 4)}
    assert ranked[3] == ("The weights add up to 1", 1, 4)
    assert all(failed == 0 for _, failed, _ in ranked[4:])


def test_a_frequency_check_says_which_outcome_was_drawn_too_often(klass: ClassResult) -> None:
    weather = check_failures(klass)[0]
    assert weather.common is None  # frequency misses are counted as drifts, not as text
    assert (weather.drifts[0].count, weather.drifts[0].overdrawn) == (2, True)
    assert sum(d.count for d in weather.drifts) == 3
    flipped = weather.drifts[0]
    assert flipped.expected in (0.6, 0.1, 0.3) and flipped.median_observed > flipped.expected
    # "cloudy": 0.4 is 36% of the total weight, but only r in [0.7, 1) draws it (30%)
    heavy = next(d for d in weather.drifts if d.count == 1)
    assert (heavy.outcome, heavy.overdrawn) == ("cloudy", False)
    assert round(heavy.expected, 3) == 0.364 and abs(heavy.median_observed - 0.30) < 0.03


def test_a_plain_check_shows_its_most_common_wrong_answer(klass: ClassResult) -> None:
    total = next(f for f in check_failures(klass) if f.name == "The weights add up to 1")
    assert total.common == ("the weights add up to 1.1", 1)


def test_the_report_shows_what_to_reteach_not_the_syntax_error(klass: ClassResult) -> None:
    html = report_html(klass, draw_charts=False)
    reteach = html[html.index("What to reteach"):html.index("could not be checked (")]
    assert "syntax error 1" in reteach and "raised an exception 1" in reteach
    assert "drawn too often in 2 files" in reteach
    assert "the weights add up to 1.1" in reteach
    assert "syntax" not in reteach.split("most common wrong answer")[1]
