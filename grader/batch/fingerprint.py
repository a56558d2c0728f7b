"""What makes a graded result still valid: a hash of everything it depends on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader import __version__
from grader.checks import local_modules
from grader.course import Course, Exercise
from grader.results import CONTRACT_VERSION


def course_digest(course: Course, exercise: Exercise) -> bytes:
    """course.yaml (as validated), the exercise's checks file and the helper modules it
    imports from its folder, the grader version and the results' contract version (a
    result of an older contract lacks fields, such as its error's kind: graded again)."""
    digest = hashlib.sha256(
        f"{__version__}\0{CONTRACT_VERSION}\0{course.model_dump_json()}\0".encode())
    checks = course.checks_path(exercise)
    if not checks.is_file():
        return digest.digest()
    for path in [checks, *local_modules(checks).values()]:
        digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    return digest.digest()


def fingerprint(base: bytes, exercise: Exercise, path: Path | None, limit: int,
                problem: str | None = None) -> str:
    """A hash of `base` (course_digest) plus the submission's name and content, or of
    why there is none (`problem`).

    Reads at most `limit` bytes: a file larger than that is refused by the grader
    anyway, and its size alone is then part of the hash.
    """
    digest = hashlib.sha256(base + exercise.id.encode())
    if path is None:
        digest.update(f"\0missing\0{problem}".encode())
    else:
        size = path.stat().st_size
        digest.update(f"\0{path.name}\0{size}\0".encode())
        with path.open("rb") as f:
            digest.update(f.read(limit + 1))
    return digest.hexdigest()
