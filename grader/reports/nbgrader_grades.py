"""Our scores into nbgrader's gradebook (`grade batch` reads its submitted/ layout itself).

`write_nbgrader_grades` stores `grade`'s scores through nbgrader's own
`Gradebook` API, so formgrader shows them. Notebooks are named by
exercise id (as `grade export nbgrader` names them) and grade cells by `slug(check
name)`, so nothing else is needed to map one onto the other.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.authoring.nbgrader_export import slug
from grader.results import ExerciseResult, StudentResult


def db_url(db: str | Path) -> str:
    """A SQLAlchemy URL for a gradebook given as a URL or as a path to a sqlite file."""
    text = str(db)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def _ensure_structure(gradebook: Any, assignment: str,
                      results: Iterable[ExerciseResult]) -> None:
    """The assignment, one notebook per exercise and one grade cell per check."""
    gradebook.update_or_create_assignment(assignment)
    for result in results:
        gradebook.update_or_create_notebook(result.exercise, assignment)
        for check in result.checks:
            gradebook.update_or_create_grade_cell(slug(check.name), result.exercise, assignment,
                                                  max_score=check.max_score, cell_type="code")


def _grade_row(gradebook: Any, cell: str, notebook: str, assignment: str, student: str) -> Any:
    """The student's Grade for a cell, created if the cell is newer than the submission."""
    from nbgrader.api import Grade, MissingEntry, SubmittedNotebook

    try:
        return gradebook.find_grade(cell, notebook, assignment, student)
    except MissingEntry:
        submission = gradebook.find_submission(assignment, student)
        try:
            submitted = gradebook.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            submitted = SubmittedNotebook(
                notebook=gradebook.find_notebook(notebook, assignment), assignment=submission)
            gradebook.db.add(submitted)
        grade = Grade(cell_id=gradebook.find_grade_cell(cell, notebook, assignment).id,
                      notebook=submitted)
        gradebook.db.add(grade)
        gradebook.db.commit()
        return grade


@contextmanager
def alembic_on_path() -> Iterator[None]:
    """nbgrader shells out to `alembic` to stamp a new gradebook: make sure it finds the
    one installed next to this Python, even when the venv is not activated."""
    here = Path(sys.executable).parent
    if shutil.which("alembic") or not (here / "alembic").exists():
        yield
        return
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(p for p in (str(here), saved) if p)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def write_nbgrader_grades(db: str | Path, assignment: str,
                          results: Iterable[StudentResult]) -> int:
    """Store every check's score as nbgrader's auto score; returns how many were written.

    Like nbgrader's own autograder, a grade that a TA already scored by hand keeps
    that score and stays flagged for review.
    """
    from nbgrader.api import Gradebook

    results = list(results)
    written = 0
    with alembic_on_path(), Gradebook(db_url(db)) as gradebook, warnings.catch_warnings():
        # nbgrader's add_submission builds rows mid-autoflush; SQLAlchemy warns, harmlessly.
        warnings.simplefilter("ignore", category=Warning)
        _ensure_structure(gradebook, assignment, [e for s in results for e in s.exercises])
        for student in results:
            gradebook.update_or_create_student(student.student)
            gradebook.update_or_create_submission(assignment, student.student)
            for exercise in student.exercises:
                for check in exercise.checks:
                    grade = _grade_row(gradebook, slug(check.name), exercise.exercise,
                                       assignment, student.student)
                    grade.auto_score = check.score
                    grade.needs_manual_grade = grade.manual_score is not None
                    written += 1
            gradebook.db.commit()
    return written
