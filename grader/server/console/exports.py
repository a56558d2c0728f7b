"""Exports from the database with the console's adjustments and extensions: the
server's class result, settled by the batch's own code, written by the export registry."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from django.db.models import Count, Max

from grader.batch.regrade import Settled, finalise_scores
from grader.reports.export import write_exports
from grader.server import review
from grader.server.export import class_result
from grader.server.models import Course, Event
from grader.server.views import course_of


def settled(course: Course, outdir: Path) -> Settled:
    """Final scores as `grade batch` makes them, with the console's overrides and
    extensions as if they were lines of overrides.csv and extensions.csv."""
    graded, handed, files = class_result(course)
    outdir.mkdir(parents=True, exist_ok=True)
    scores = {(s.student, e.exercise): (e.score, e.max_score)
              for s in graded.students for e in s.exercises if e.submitted}
    return finalise_scores(course_of(course.root), graded, handed, files, outdir,
                  extensions=review.extensions(course),
                  overrides=[*review.rubric(course, scores), *review.overrides(course)])


def export(course: Course, outdir: Path) -> list[Path]:
    """Write what `grade batch` writes into `outdir`, from the database."""
    return write_exports(outdir, settled(course, outdir).result)


def version(course: Course) -> str:
    """What the exports depend on, in cheap queries: every grading, adjustment, extension
    and publication appends a ledger event, so the newest event's id moves whenever an
    export would change; the roster and course.yaml (deadlines, late policy) too."""
    newest = Event.objects.filter(course=course).aggregate(Max("id"))["id__max"] or 0
    roster = course.learners.aggregate(n=Count("id"), top=Max("id"))
    settings = hashlib.sha256((Path(course.root) / "course.yaml").read_bytes()).hexdigest()
    return f"{newest}-{roster['n']}-{roster['top']}-{settings[:16]}"


def archive(course: Course, data: Path) -> Path:
    """The zip of every export, made at most once per version of the course's data
    (a class of 3,000 takes tens of seconds to export; asking again is instant)."""
    folder = data / "console-exports"
    path = folder / f"{course.slug}-{version(course)}.zip"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grade-export-", dir=folder) as work:
        written = export(course, Path(work) / "out")
        made = Path(work) / "made.zip"
        with zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file in sorted(written):
                zipped.write(file, str(file.relative_to(Path(work) / "out")))
        os.replace(made, path)  # whole or absent: a reader never sees half a zip
    for old in folder.glob(f"{course.slug}-*.zip"):
        if old != path:
            old.unlink(missing_ok=True)
    return path
