"""`grade status`: one row per exercise from the progress file, and what to do next."""

from __future__ import annotations

import os
import stat
from datetime import datetime

from pydantic import Field

from grader.course import Course
from grader.models import Model
from grader.progress.state import Progress
from grader.runner import SubmissionError, find_blanks, read


class StatusRow(Model):
    """One exercise as `grade status` shows it."""

    id: str
    title: str
    max_score: float | None = Field(description="from the last grading, or course.yaml")
    best: float | None = Field(description="best score of a full run; null: never graded")
    last: float | None
    done: bool = Field(description="full marks reached at least once")
    blanks: int | None = Field(description="___ blanks in the file now; null: unreadable")
    graded_at: datetime | None
    file: str = Field(description="the file last graded, else the exercise's own")


class StatusReport(Model):
    """`grade status --json`: every exercise, the next one to work on, and any notes."""

    course: str
    exercises: list[StatusRow]
    done: int
    next: str | None = Field(description="the first unfinished exercise; null: all done")
    notes: list[str] = Field(default_factory=list)


def next_unfinished(course: Course, done: set[str], after: str | None = None) -> str | None:
    """The first exercise not done, looking after `after` first, then from the start."""
    ids = [e.id for e in course.exercises]
    start = ids.index(after) + 1 if after in ids else 0
    return next((i for i in ids[start:] + ids[:start] if i not in done), None)


def _blanks(course: Course, file: str, max_kb: int) -> int | None:
    path = course.root / file
    try:
        # The name comes from the progress file, which anyone can edit: a FIFO or a
        # device there would block `read` for ever (stat opens nothing).
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        return len(find_blanks(read(path, max_kb).text))
    except (SubmissionError, OSError, ValueError):
        return None


def status_report(course: Course, progress: Progress, notes: list[str]) -> StatusReport:
    rows = []
    for exercise in course.exercises:
        record = progress.exercises.get(exercise.id)
        default = os.path.relpath(course.learner_path(exercise), course.root)
        file = (record.file if record and record.file else None) or default
        rows.append(StatusRow(
            id=exercise.id, title=exercise.title,
            max_score=(record.max_score if record and record.max_score else exercise.points),
            best=record.best if record else None, last=record.last if record else None,
            done=bool(record and record.full_marks),
            blanks=_blanks(course, file, course.limits_for(exercise).max_source_kb),
            graded_at=record.graded_at if record else None, file=file))
    return StatusReport(course=course.title, exercises=rows,
                        done=sum(r.done for r in rows),
                        next=next_unfinished(course, progress.done()), notes=notes)
