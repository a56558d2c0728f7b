"""The shipped course: solutions get full marks, skeletons get 0 and name their blanks."""

from __future__ import annotations

import ast
import re

import pytest

from grader.course import Course
from grader.runner import Grader
from tests.conftest import exercise_of

IDS = ["exercise-1", "exercise-2", "exercise-3"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_gets_full_marks(grader: Grader, course: Course, exercise_id: str) -> None:
    exercise = exercise_of(course, exercise_id)
    result = grader.grade(exercise, course.solution_path(exercise))
    assert result.error is None
    assert [c.name for c in result.checks if not c.passed] == []
    assert result.score == result.max_score == 10


@pytest.mark.parametrize("exercise_id", ["exercise-1", "exercise-2"])
def test_skeleton_scores_zero_and_names_blank_lines(grader: Grader, course: Course,
                                                    exercise_id: str) -> None:
    exercise = exercise_of(course, exercise_id)
    path = course.learner_path(exercise)
    # Independent oracle: where the syntax tree has a name `___`.
    tree = ast.parse(path.read_text())
    lines = sorted({n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "___"})
    assert lines, "a skeleton with blanks"
    result = grader.grade(exercise, path)
    assert result.score == 0
    assert not any(c.passed for c in result.checks)
    assert result.error is not None
    for line in lines:
        assert re.search(rf"\b{line}\b", result.error), (line, result.error)
    assert "still empty" in result.error
    assert "NameError" not in result.error


def test_outline_skeleton_scores_zero(grader: Grader, course: Course) -> None:
    exercise = exercise_of(course, "exercise-3")
    result = grader.grade(exercise, course.learner_path(exercise))
    assert result.score == 0
    assert all(not c.passed for c in result.checks)
    assert "does not define `corpus`" in result.checks[0].message


def test_partly_filled_skeleton_reports_only_remaining_blank(grade_text, course: Course) -> None:
    skeleton = course.learner_path(exercise_of(course, "exercise-1")).read_text()
    filled = skeleton.replace('"cloudy": ___', '"cloudy": 0.3')
    line = next(n for n, t in enumerate(filled.splitlines(), 1) if "r < ___" in t)
    result = grade_text("exercise-1", filled)
    assert result.error == (f"the blank on line {line} is still empty: "
                            "replace each ___ with your answer")


def test_any_correct_cloudy_expression_is_accepted(grade_text, mutant) -> None:
    source = mutant("exercise-1", '"cloudy": 0.3,', '"cloudy": 1 - 0.6 - 0.1,')
    assert grade_text("exercise-1", source).score == 10


def test_points_add_up_to_course_yaml(grader: Grader, course: Course) -> None:
    for exercise in course.exercises:
        assert exercise.points == grader.catalogue.max_score(exercise)
        assert all(c.points > 0 and c.name for c in grader.checks(exercise))


def test_syntax_error_in_a_filled_skeleton_is_not_called_a_blank(grade_text, course: Course,
                                                                 mutant) -> None:
    # Every blank filled, one colon missing: the docstrings still mention ___.
    source = mutant("exercise-1", "if r < cumulative:", "if r < cumulative")
    assert "___" in source
    result = grade_text("exercise-1", source)
    assert result.error is not None
    assert result.error.startswith("your file has a syntax error: expected ':'")
    assert "blank" not in result.error


def test_blank_before_a_syntax_error_is_reported_as_blank(grade_text, course: Course) -> None:
    skeleton = course.learner_path(exercise_of(course, "exercise-2")).read_text()
    broken = skeleton + "\nprint(generate(chain, 'i', 4)\n"
    result = grade_text("exercise-2", broken)
    assert result.error is not None and "still empty" in result.error
