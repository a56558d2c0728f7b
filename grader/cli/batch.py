"""`grade batch SUBMISSIONS --out OUTDIR`: grade a whole class, resumably.

This module is the command line only, and loads light. The workers' zygotes were
launched as the command started (batch/early.py, from grader.cli.run) and boot while it
imports; the command loads the course and the batch (cli/batch_run.py), then forks its
workers (`EarlyPool`), each taking one of those zygotes, before it reads the class: their
start-up (greeting the zygote, importing the checks) overlaps the discovery, the journal
and the planning. A finished batch ends once its workers and zygotes have, without the
interpreter's teardown (`early.settle`, then `leave`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader.batch import early
from grader.batch.names import Layout, Only, default_jobs
from grader.cli import leave
from grader.cli.batch_options import (
    CANVAS_ID_OPTION,
    DASK_JOBS,
    EXTENSIONS_OPTION,
    OVERRIDES_OPTION,
    SUBMITTED_AT_OPTION,
    BatchOptions,
)
from grader.cli.context import course_from, die

if TYPE_CHECKING:
    from grader.batch.pool import EarlyPool
    from grader.course import Course, Exercise

@click.command("batch")
@click.argument("submissions", type=click.Path(path_type=Path, exists=True))
@click.option("--out", "outdir", required=True, type=click.Path(path_type=Path),
              help="Folder for the gradebook, feedback, exports and report.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help=f"Worker processes (default: all cores, {default_jobs()} here). Not with "
                   "--dask: the cluster's workers and their --nthreads decide the parallelism.")
@click.option("--exercise", "exercise_ids", multiple=True, metavar="ID",
              help="Grade only this exercise (repeat for several).")
@click.option("--force", is_flag=True, help="Grade again even submissions that did not change.")
@click.option("--layout", type=click.Choice([layout.value for layout in Layout]), default=None,
              help="How SUBMISSIONS is organised (default: detected).")
@click.option("--student", "student_ids", multiple=True, metavar="ID",
              help="Grade (again) only this student (repeat for several).")
@click.option("--only", type=click.Choice([only.value for only in Only]), default=None,
              help="Grade again only the results that errored, timed out or changed.")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="roster.csv (id, name, email, sis_id, section): the class; "
              "fills the id columns of canvas.csv and moodle.csv.")
@EXTENSIONS_OPTION
@OVERRIDES_OPTION
@SUBMITTED_AT_OPTION
@CANVAS_ID_OPTION
@click.option("--nbgrader-db", default=None, metavar="PATH",
              help="Also write the scores into this nbgrader gradebook (sqlite file or URL).")
@click.option("--nbgrader-assignment", default="exercises", show_default=True,
              help="The nbgrader assignment the scores belong to (with --nbgrader-db).")
@click.option("--similarity", "with_similarity", is_flag=True,
              help="Also write OUTDIR/similarity.html (as `grade similarity`), linked from "
                   "report.html.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Grade on the Dask cluster whose scheduler is at ADDRESS "
                   "(tcp://HOST:8786); needs grade's dask extra. See docs/cluster.md.")
@click.option("--allow-uncontained", is_flag=True,
              help="With --dask: also grade on workers whose sandbox cannot contain learner "
                   "code (portable, plain); refused otherwise. See docs/cluster.md, 'Trust'.")
@click.option("--shard", "shard_text", default=None, metavar="I/N",
              help="Grade only share I of N of the students (1/3, 2/3, 3/3); join the "
                   "shards' OUTDIRs with `grade merge`.")
@click.pass_context
def batch(ctx: click.Context, /, **given: Any) -> None:
    """Grade a class: SUBMISSIONS (a folder or a .zip) holds one folder per student
    (the folder name is the student id) with that student's files, named as in
    exercises/ (or .ipynb; loose names such as "Exercise1 (1).py" are matched with a
    warning). nbgrader's submitted/, a Canvas, Moodle or Gradescope download and
    cloned GitHub Classroom repositories are detected (or name one with --layout).

    \b
    Writes into OUTDIR every export of the registry (grades.csv, grades.json,
    canvas.csv, moodle.csv, report.html, feedback/ID.md, gradescope/ID/results.json:
    docs/contracts.md). Every result is saved the moment it is known
    (OUTDIR/journal.jsonl): run the same command again after a crash and only
    what is missing or changed is graded.
    """
    options = BatchOptions(**given)
    course = course_from(ctx)
    exercises = _exercises(course, options.exercise_ids)
    if options.dask_address and options.jobs is not None:
        die(DASK_JOBS)
    # The batch's modules first, then the workers: forked after, they inherit them
    # (importing them again in each worker cost more CPU than the overlap saved).
    from grader.cli.batch_run import grade_class

    early.collect()  # the start-up's objects frozen, the collector on: then the fork
    pool = _early_pool(course, options)
    try:
        grade_class(ctx, course, options, exercises, pool)
    finally:
        early.discard()
        if pool is not None:
            pool.close()
    # The `grade` command ends once its workers and zygotes have: the interpreter's
    # teardown of the batch's modules would only delay the prompt (and --dask's client
    # ends its own way).
    if not options.dask_address and early.settle():
        leave(0)


def _exercises(course: Course, ids: tuple[str, ...]) -> list[Exercise]:
    """The exercises `--exercise` names (none: all that were handed in)."""
    exercises = []
    for exercise_id in ids:
        exercise = course.exercise(exercise_id)
        if exercise is None:
            die(f"no exercise {exercise_id!r} in the course "
                f"(exercises: {', '.join(e.id for e in course.exercises)})")
        exercises.append(exercise)
    return exercises


def _early_pool(course: Course, options: BatchOptions) -> EarlyPool | None:
    """The local workers, forked now, on a first run into OUTDIR, each with a zygote
    launched as the command started if there is one (batch/early.py): those forked as
    it started, already grading its first files, when they grade this course; None with
    --dask, or when OUTDIR's journal already holds results (a resumed run may grade
    nothing: its pool starts when there is a file to grade, as before)."""
    if not early.forks_early(options.outdir, bool(options.dask_address)):
        return None
    from grader.batch.pool import Claims, EarlyPool, course_plans, local_workers

    jobs = early.workers(options.submissions, options.jobs or default_jobs())
    plans = course_plans(course)
    pool = early.take_pool(plans, jobs) or local_workers(plans, jobs,
                                                         Claims(early.take(jobs)))
    return EarlyPool(pool)
