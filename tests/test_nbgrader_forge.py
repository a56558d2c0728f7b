"""A learner cell that forges nbgrader's in-kernel score never reaches the gradebook's grade.

Real `nbgrader generate_assignment` and `autograde` on our export: each forger hands
in exercise 2 with a wrong generator (7/10 under `grade`) and one more line in its
last solution cell that patches the grading code in its own kernel. autograde's
in-kernel checks are fooled (that score is feedback); `grade batch --nbgrader-db`
after autograde grades each notebook's source in the sandbox and writes that score
into the gradebook, over autograde's.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.authoring.nbgrader_export import export_nbgrader
from grader.course import Course
from grader.runner import Grader
from tests.test_nbgrader import ASSIGNMENT, answer, nbgrader

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install 'grade[nbgrader]')")

from nbgrader.api import Gradebook

FORGERIES = {
    "grade-cells": 'import grader.notebooks.kernel as k; k.grade_cells = lambda *a, **kw: "passed"',
    "run-check": "import grader.notebooks.kernel as k; k.run_check = lambda *a, **kw: None",
    "runner": ("import grader.runner as r\nr.judge = lambda *a, **kw: type('R', (), "
               "{'passed': True, 'message': 'passed'})()"),
    "assertion": "import builtins; builtins.AssertionError = type('X', (BaseException,), {})",
}


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course_root(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Released, handed in by one forger per forgery and one honest learner, autograded."""
    root = tmp_path_factory.mktemp("nbgrader-forge")
    export_nbgrader(course, root, ASSIGNMENT)
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root)
    released = root / "release" / ASSIGNMENT / "exercise-2.ipynb"
    for student, forgery in [*FORGERIES.items(), ("honest", "")]:
        notebook = answer(course, "exercise-2", released, wrong=True)
        last = [c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("solution")][-1]
        last.source += f"\n{forgery}\n"
        path = root / "submitted" / student / ASSIGNMENT / "exercise-2.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    nbgrader("autograde", ASSIGNMENT, cwd=root)
    return root


def scores(db: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{db}") as gradebook:
        return {student: gradebook.find_submission_notebook(
                    "exercise-2", ASSIGNMENT, student).score
                for student in [*FORGERIES, "honest"]}


def test_autograde_alone_is_fooled_so_its_score_is_only_feedback(course_root: Path) -> None:
    forged = scores(course_root / "gradebook.db")
    assert forged["honest"] == 7, fail(forged, 7, "the honest wrong generator")
    fooled = [s for s, score in forged.items() if s != "honest" and score > 7]
    assert fooled, fail(forged, "some forger above 7", "the kernel's verdicts can be forged")


def test_grade_batch_writes_the_sandboxed_score_over_every_forgery(
        course_root: Path, course: Course, grader: Grader, run_grade, tmp_path: Path) -> None:
    db = course_root / "gradebook.db"
    run = run_grade("batch", str(course_root), "--out", str(tmp_path / "out"),
                    "--nbgrader-db", str(db), "--nbgrader-assignment", ASSIGNMENT,
                    timeout=300)
    assert run.returncode == 0, run.stderr
    exercise = course.exercise("exercise-2")
    assert exercise is not None
    after = scores(db)
    for student, score in after.items():
        path = course_root / "submitted" / student / ASSIGNMENT / "exercise-2.ipynb"
        expected = grader.grade(exercise, path).score  # the source, graded in the box
        assert score == expected <= 7, fail(score, expected, f"{student}'s gradebook score")
