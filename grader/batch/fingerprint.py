"""What makes a graded result still valid: a hash of everything it depends on.

Deadlines and late policies are left out: they change the final score, never the
verdict, and are applied afresh on every run (grader.batch.adjust).
"""

from __future__ import annotations

import hashlib

from grader.batch.filehash import submission_digest as submission_digest
from grader.checks import local_modules
from grader.course import Course, Exercise
from grader.results import CONTRACT_VERSION
from grader.version import __version__

# Fields of course.yaml that never change a verdict.
_NOT_GRADING = {"deadline", "late_policy"}


def course_text(course: Course) -> str:
    """course.yaml as validated, without the fields that do not change a verdict."""
    return course.model_dump_json(
        exclude={**dict.fromkeys(_NOT_GRADING, True),
                 "exercises": {"__all__": _NOT_GRADING}})


def checks_digest(course: Course, exercise: Exercise) -> str:
    """The exercise's checks file and the helper modules it imports from its folder."""
    digest = hashlib.sha256()
    checks = course.checks_path(exercise)
    if checks.is_file():
        for path in [checks, *local_modules(checks).values()]:
            digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def course_digest(course: Course, exercise: Exercise) -> bytes:
    """course.yaml (as validated, deadlines aside), the exercise's checks, the grader
    version and the results' contract version (a result of an older contract lacks
    fields, such as its error's kind: graded again)."""
    return hashlib.sha256(f"{__version__}\0{CONTRACT_VERSION}\0{course_text(course)}\0"
                          f"{checks_digest(course, exercise)}".encode()).digest()


def exercises_digest(course: Course, exercises: list[Exercise]) -> str:
    """`course_digest` of every exercise a batch grades: what the shards of one class,
    and the course `grade merge` settles them with, must agree on."""
    return hashlib.sha256(b"".join(course_digest(course, e) for e in exercises)).hexdigest()


def fingerprint(base: bytes, exercise: Exercise, submission: str) -> str:
    """A hash of `base` (course_digest), the exercise and the `submission_digest`."""
    return hashlib.sha256(base + exercise.id.encode() + submission.encode()).hexdigest()
