"""Exports from the database with the console's adjustments and extensions: the
server's class result, settled by the batch's own code, written by the export registry."""

from __future__ import annotations

from pathlib import Path

from grader.batch.regrade import Settled, settle
from grader.reports.export import write_exports
from grader.server import review
from grader.server.export import class_result
from grader.server.models import Course
from grader.server.views import course_of


def settled(course: Course, outdir: Path) -> Settled:
    """Final scores as `grade batch` makes them, with the console's overrides and
    extensions as if they were lines of overrides.csv and extensions.csv."""
    graded, handed, files = class_result(course)
    outdir.mkdir(parents=True, exist_ok=True)
    return settle(course_of(course.root), graded, handed, files, outdir,
                  extensions=review.extensions(course), overrides=review.overrides(course))


def export(course: Course, outdir: Path) -> list[Path]:
    """Write what `grade batch` writes into `outdir`, from the database."""
    return write_exports(outdir, settled(course, outdir).result)
