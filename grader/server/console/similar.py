"""Similarity on demand: one exercise's counted submissions, a student per subfolder of
a temporary folder, compared by `grade similarity` itself (the `similarity` extra) in a
process of its own: the server's layer never imports it, and its minutes of work never
hold the server's interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from grader.server import store
from grader.server.export import chosen
from grader.server.models import Course
from grader.server.views import course_of


class SimilarityUnavailable(Exception):
    """`grade similarity` could not run (the extra missing, say); the message says why."""


def compare(course: Course, exercise: str, data: Path) -> dict[str, Any]:
    """similarity.json's report of the exercise (its `threshold`, and `exercises[0]`'s
    `pairs`, most similar first)."""
    found = course_of(course.root).exercise(exercise)
    assert found is not None
    stem = Path(found.file).stem
    jobs = chosen(course).filter(exercise=exercise).values_list(
        "learner__student", "sha256", "suffix")
    with tempfile.TemporaryDirectory(prefix="grade-similarity-") as folder:
        files, out = Path(folder) / "files", Path(folder) / "out"
        files.mkdir()
        for student, sha, suffix in jobs:
            (files / student).mkdir()
            (files / student / f"{stem}{suffix}").write_bytes(store.get(data, sha))
        done = subprocess.run([sys.executable, "-m", "grader", "--course", course.root,
                               "similarity", str(files), "--out", str(out),
                               "--exercise", exercise], capture_output=True, text=True,
                              timeout=3600, check=False)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise SimilarityUnavailable(lines[-1] if lines else f"exit {done.returncode}")
        report: dict[str, Any] = json.loads((out / "similarity.json").read_text())
    return report
