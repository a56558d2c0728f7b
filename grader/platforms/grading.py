"""Grading what a platform hands over: a folder of uploads, in one sandbox."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from grader.course import Course, Exercise
from grader.platforms.files import Uploads, find_uploads
from grader.results import NO_SUBMISSION, ErrorKind, ExerciseResult, StudentResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox


def isolation_note(sandbox: Sandbox) -> str:
    """Which isolation level ran, in one sentence (logs and instructors' output)."""
    if not sandbox.weakened:
        return "isolation: full (namespaces, chroot, no network)"
    return (f"isolation: reduced on this machine (no {', '.join(sandbox.weakened)}); "
            "rlimits, a fresh folder and no privileges still apply")


def missing(grader: Grader, exercise: Exercise) -> ExerciseResult:
    """The result of an exercise no upload was found for."""
    notebook = Path(exercise.file).with_suffix(".ipynb").name
    return grader.failed(exercise, f"{NO_SUBMISSION}: no file for {exercise.id} was uploaded "
                         f"(name it {exercise.file} or {notebook})", ErrorKind.MISSING,
                         time.monotonic())


def grade_uploads(course: Course, folder: Path, sandbox: Sandbox, student: str = "submission",
                  exercises: Sequence[Exercise] | None = None) -> tuple[StudentResult, Uploads]:
    """Grade each exercise's upload in `folder` (every exercise of the course by default)."""
    grader = Grader(course, sandbox)
    uploads = find_uploads(folder, course)
    results = []
    for exercise in exercises if exercises is not None else course.exercises:
        path = uploads.files.get(exercise.id)
        results.append(grader.grade(exercise, path) if path else missing(grader, exercise))
    return StudentResult(student=student, exercises=results), uploads
