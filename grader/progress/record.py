"""Recording gradings into the progress file, and picking each failed check's hint."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from grader.kinds import ErrorKind
from grader.progress.hints import deepen

if TYPE_CHECKING:  # the models load with the store, when a Recorder is made
    from grader.course import Course, Exercise
    from grader.progress.state import Progress
    from grader.results import ExerciseResult


def fingerprint(path: Path) -> str | None:
    """sha256 of the file as graded (None when unreadable): "changed code" for hints."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def course_relative(course: Course, path: Path) -> str:
    """`path` from the course root when inside it (as status shows it), else absolute."""
    full, root = path.resolve(), course.root.resolve()
    return os.path.relpath(full, root) if full.is_relative_to(root) else str(full)


class Recorder:
    """Applies each grading of a learner's loop to the progress file.

    The file only ever changes what is shown (scores in `grade status`, the depth of
    a hint); no score is read from it.
    """

    def __init__(self, course: Course) -> None:
        from grader.progress.store import ProgressStore

        self.course = course
        self.store = ProgressStore(course.root)
        self.progress = self.store.load()

    def graded(self, exercise: Exercise, result: ExerciseResult, path: Path,
               source: str | None, *, partial: bool = False,
               hints: bool = True) -> ExerciseResult:
        """Record `result` (a `-k` run is `partial`: its score is no exercise score);
        returns it with its hints at their depth (`hints=False`: the first hints, as
        `--json` keeps them, so that a script sees the same text for the same file)."""
        shown: list[ExerciseResult] = []

        def change(progress: Progress) -> None:
            record = progress.record(exercise.id)
            shown.append(deepen(result, record.hints, source) if hints else result)
            # Says nothing about the work: a -k run, the grader's own failure, and a file
            # with blanks left (no check ran; `grade status` counts its blanks from the
            # file itself, and grader/cli/unfinished.py reports it without this file).
            if partial or result.grader_fault or result.error_kind is ErrorKind.BLANKS:
                return
            record.last = result.score
            record.best = max(result.score, record.best or 0.0)
            record.max_score = result.max_score
            record.full_marks = record.full_marks or result.full_marks
            record.graded_at = datetime.now(timezone.utc).replace(microsecond=0)
            record.file = course_relative(self.course, path)
            record.runs += 1

        self.progress = self.store.update(change)
        return shown[-1]

    def done(self) -> set[str]:
        return self.progress.done()

    def notes(self) -> list[str]:
        """Notes for stderr, each given once."""
        notes, self.store.notes[:] = list(self.store.notes), []
        return notes
