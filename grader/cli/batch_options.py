"""`grade batch`'s options, as parsed and as shared with `grade merge` (no batch import)."""

# No `from __future__ import annotations`: a NamedTuple's field annotations given as text
# are each compiled by typing (course/plan.py says the cost).
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from grader.batch.names import Layout

if TYPE_CHECKING:
    from grader.reports.canvas import IdColumn

CANVAS_IDS: "dict[str, IdColumn]" = {"sis-login-id": "SIS Login ID",
                                   "sis-user-id": "SIS User ID", "id": "ID"}


def canvas_column(canvas_id: str | None, layout: Layout) -> "IdColumn":
    """The canvas.csv column the student id goes in: as asked, else by the layout."""
    return CANVAS_IDS[canvas_id or ("id" if layout is Layout.CANVAS else "sis-login-id")]


EXTENSIONS_OPTION = click.option(
    "--extensions", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
    help="extensions.csv (student, exercise, deadline, reason); default: extensions.csv "
    "beside course.yaml, if there is one.")
OVERRIDES_OPTION = click.option(
    "--overrides", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
    help="overrides.csv (student, exercise, check, points, reason, by); default: "
    "overrides.csv beside course.yaml, if there is one.")
SUBMITTED_AT_OPTION = click.option(
    "--submitted-at", "submitted_at", type=click.Path(path_type=Path, dir_okay=False,
                                                      exists=True), default=None,
    help="When each file was handed in, for the late policy of a download that records "
    "no time (Canvas, Moodle): a CSV of student, exercise, submitted_at, or Canvas's "
    "submissions export (user_id, submitted_at), or Moodle's grading worksheet.")
CANVAS_ID_OPTION = click.option(
    "--canvas-id", type=click.Choice(sorted(CANVAS_IDS)), default=None,
    help="The canvas.csv column the student id goes in (default: id for a Canvas download, "
    "else sis-login-id).")
DASK_JOBS = ("--jobs does not apply with --dask: the cluster's workers and their --nthreads "
             "decide how many files are graded at once (start more workers, or workers with "
             "more processes: dask worker ADDRESS --nworkers N --nthreads 1)")


class BatchOptions(NamedTuple):
    """`grade batch`'s command line, as click parsed it (one field per option). A named
    tuple, not a frozen dataclass: building one of 19 fields cost the command 3-5 ms
    before it forks its workers (and the dataclasses module, which it needs no other way
    by then)."""

    submissions: Path
    outdir: Path
    jobs: int | None
    exercise_ids: tuple[str, ...]
    force: bool
    layout: str | None
    student_ids: tuple[str, ...]
    only: str | None
    roster: Path | None
    extensions: Path | None
    overrides: Path | None
    submitted_at: Path | None
    canvas_id: str | None
    nbgrader_db: str | None
    nbgrader_assignment: str
    dask_address: str | None
    shard_text: str | None
    with_similarity: bool
    allow_uncontained: bool
