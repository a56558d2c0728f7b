"""The in-kernel side of nbgrader tests, without Jupyter: cells in, our verdict out."""

from __future__ import annotations

import pytest

from grader.checks import local_modules
from grader.course import Course
from grader.notebooks.build import split_module
from grader.notebooks.kernel import MARKER, grade_cells, register_checks
from grader.runner import Grader, inputs
from grader.runner.notebook import join_cells


@pytest.fixture
def exercise_2(course: Course):
    exercise = course.exercise("exercise-2")
    assert exercise is not None
    checks = course.checks_path(exercise)
    helpers = {name: path.read_text() for name, path in local_modules(checks).items()}
    register_checks("exercise-2", checks.read_text(), helpers)
    return exercise


def test_check_cells_are_not_learner_code() -> None:
    history = ["x = 1", f"{MARKER} x\nrun_check('e', 't')", "%%time\ny = 2"]
    assert inputs.program([inputs.Run(cell) for cell in history]) == ["x = 1", "%%time\ny = 2"]


def test_in_kernel_verdicts_match_grade(course: Course, grader: Grader, exercise_2) -> None:
    cells = split_module(course.solution_path(exercise_2).read_text()).cells
    wrong = [c.replace("random.choice(options)", "options[0]") for c in cells]
    for program in (cells, ["%matplotlib inline", *wrong]):
        ours = grader.grade_source(exercise_2, join_cells(program), "work.ipynb")
        assert ours.error is None
        for check, result in zip(grader.checks(exercise_2), ours.checks, strict=True):
            if result.passed:
                assert grade_cells("exercise-2", check.id, join_cells(program)).startswith("passed")
            else:
                with pytest.raises(AssertionError, match=r"^" + result.message[:20]):
                    grade_cells("exercise-2", check.id, join_cells(program))


def test_blanks_and_load_errors_fail_every_check(course: Course, exercise_2) -> None:
    skeleton = split_module(course.learner_path(exercise_2).read_text()).cells
    with pytest.raises(AssertionError, match=r"^the blanks in code cell 3 \(lines 8, 9 and 10\) "
                                             "are still empty: replace each ___ with your "
                                             "answer, so nothing could be checked$"):
        grade_cells("exercise-2", "test_starts_with_start", join_cells(skeleton))
    with pytest.raises(AssertionError, match=r"^your notebook raised ZeroDivisionError: "
                                             r"division by zero \(code cell 2, line 1: 1 / 0\)"):
        grade_cells("exercise-2", "test_dead_end", join_cells(["import random", "1 / 0"]))


def test_unknown_check_says_how_to_fix(exercise_2) -> None:
    with pytest.raises(RuntimeError, match="run the notebook's cells from the top"):
        grade_cells("exercise-9", "test_x", join_cells(["x = 1"]))
