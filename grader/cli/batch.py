"""`grade batch SUBMISSIONS --out OUTDIR`: grade a whole class, resumably."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from grader.batch import BatchError, BatchRequest, BatchRun, run_batch
from grader.batch.adjust import Extension, Override, read_extensions, read_overrides
from grader.batch.executor import ExecutorFactory
from grader.batch.layouts import Layout
from grader.batch.regrade import Settled, finalise_scores
from grader.batch.roster import RosterRow, check_ids, read_roster
from grader.batch.run import JOURNAL, default_jobs
from grader.batch.select import Only, Selection
from grader.batch.shard import Shard, ShardError
from grader.batch.submitted import Times, read_times
from grader.batch.tables import TableError
from grader.cli.context import course_from, die, warn_weakened
from grader.cli.exits import INTERRUPTED
from grader.course import Course, Exercise
from grader.reports.canvas import IdColumn
from grader.reports.export import summary as exports_summary
from grader.reports.export import write_exports
from grader.reports.html import SimilarityLink
from grader.reports.moodle import unmatched_in_moodle
from grader.results import ClassResult, WorkerInfo
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox

TERMINATED = 128 + signal.SIGTERM  # the shell's status for a process ended by SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the batch stops as on Ctrl-C (results saved, workers gone)."""


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated


CANVAS_IDS: dict[str, IdColumn] = {"sis-login-id": "SIS Login ID",
                                   "sis-user-id": "SIS User ID", "id": "ID"}


class Progress:
    """A progress bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, interval: float = 5.0) -> None:
        self.tty = sys.stderr.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.last = self.started
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="grading", show_eta=True,
                                             show_pos=True, file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.bar.pos)
            return
        now = time.monotonic()
        if now - self.last >= self.interval or done == total:
            self.last = now
            elapsed = now - self.started
            left = elapsed / done * (total - done)
            click.echo(f"graded {done}/{total} ({100 * done // total}%), {elapsed:.0f} s, "
                       f"about {left:.0f} s left", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _summary(run: BatchRun, settled: Settled, outdir: Path, where: str = "") -> list[str]:
    result = settled.result
    submissions = [e for s in result.students for e in s.exercises]
    missing = sum(not e.submitted for e in submissions)
    unchecked = sum(e.error is not None for e in submissions) - missing
    mean = sum(s.total for s in result.students) / max(1, len(result.students))
    workers = f"{run.workers} {where}worker{'s' * (run.workers != 1)}"
    lines = [
        f"graded {len(result.students)} students x {len(result.exercises)} "
        f"exercise{'s' * (len(result.exercises) != 1)} in "
        f"{run.seconds:.1f} s: {run.graded} graded now ({workers}), {run.reused} unchanged "
        f"({run.layout.value} layout)",
        f"class mean {mean:.1f}/{result.max_score:g}; {unchecked} submissions could not be "
        f"checked; {missing} file{'s' * (missing != 1)} missing",
        f"wrote {outdir}/{exports_summary()}",
    ]
    return lines + moved(settled, outdir)


def assigned_line(course: Course, run: BatchRun, chosen: bool) -> list[str]:
    """Which exercises were graded, when the download (not --exercise) decided it."""
    left = [e.id for e in course.exercises if e not in run.assigned]
    if chosen or not left:
        return []
    return [f"graded the exercises the download holds: "
            f"{', '.join(e.id for e in run.assigned)} (not {', '.join(left)}: nobody handed "
            f"{'it' if len(left) == 1 else 'them'} in; name one with --exercise to grade it "
            "all the same)"]


def moved(settled: Settled, outdir: Path) -> list[str]:
    """The summary's line on what moved since the last run into OUTDIR, if there was one."""
    if settled.changes is None:
        return []
    students = len({c.student for c in settled.changes})
    scores, edited = len(settled.changes), settled.edited
    where = (f"{outdir}/changes.md is still the last list, nothing moved now" if settled.kept
             else f"see {outdir}/changes.md")
    files = (f", {edited} feedback file{'s' * (edited != 1)} changed (upload them again)"
             if edited else "")
    return [f"since the last run: {students} student{'s' * (students != 1)} moved, "
            f"{scores} score{'s' * (scores != 1)}{files} ({where})"]


def unmatched_warning(result: ClassResult, roster: bool) -> list[str]:
    """The students moodle.csv leaves out (Moodle could not match their rows), with
    why; said when Moodle is in use (a roster, or some student it can match)."""
    unmatched = unmatched_in_moodle(result)
    if not unmatched or not (roster or len(unmatched) < len(result.students)):
        return []
    shown = "; ".join(f"{u.student} ({u.why.split(':')[0]})" for u in unmatched[:5])
    more = f"; and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
    return [f"moodle.csv leaves out {len(unmatched)} students that Moodle cannot match, "
            f"listed in unmatched-moodle.csv: {shown}{more}"]


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(click.style("warning: ", fg="yellow", bold=True) + warning, err=True)


def canvas_column(canvas_id: str | None, layout: Layout) -> IdColumn:
    """The canvas.csv column the student id goes in: as asked, else by the layout."""
    return CANVAS_IDS[canvas_id or ("id" if layout is Layout.CANVAS else "sis-login-id")]


def tables(course: Course, roster: Path | None, extensions: Path | None,
           overrides: Path | None) -> tuple[list[RosterRow] | None, list[Extension],
                                            list[Override]]:
    """The TA's CSV files: the roster if given; extensions and overrides from the
    options, else from extensions.csv and overrides.csv beside course.yaml."""
    extensions = extensions or _beside(course, "extensions.csv")
    overrides = overrides or _beside(course, "overrides.csv")
    try:
        extension_rows = read_extensions(extensions) if extensions else []
        override_rows = read_overrides(overrides) if overrides else []
        # every id from every source gets the checks a download's ids get
        check_ids([(n, r.student) for n, r in enumerate(extension_rows, 2)], extensions)
        check_ids([(n, r.student) for n, r in enumerate(override_rows, 2)], overrides)
        return read_roster(roster) if roster else None, extension_rows, override_rows
    except (TableError, OSError, UnicodeDecodeError) as exc:
        die(str(exc))
    raise AssertionError("unreachable")


def _times(path: Path | None) -> Times | None:
    """--submitted-at's rows, or None; a bad file stops the batch before any grading."""
    if path is None:
        return None
    try:
        return Times(read_times(path))
    except (TableError, OSError, UnicodeDecodeError) as exc:
        die(str(exc))
    raise AssertionError("unreachable")


def _beside(course: Course, name: str) -> Path | None:
    path = course.root / name
    return path if path.is_file() else None


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
    try:
        shard = Shard.parse(options.shard_text) if options.shard_text else None
    except ShardError as exc:
        die(str(exc))
    if options.dask_address and options.jobs is not None:
        die(DASK_JOBS)
    executor = (_dask(options.dask_address, options.allow_uncontained)
                if options.dask_address else None)
    if executor is None:
        _probe_sandbox()
    similarity, link = None, None
    if options.with_similarity:  # compared before grading, written after it (report.html links it)
        from grader.cli.similarity import compare_submissions, write_similarity_report
        from grader.similarity.html import INDEX

        similarity = compare_submissions(ctx, options.submissions, options.exercise_ids,
                                         exclude=options.outdir)
        link = SimilarityLink(INDEX, similarity.flagged, similarity.threshold)
    roster_rows, extension_rows, override_rows = tables(
        course, options.roster, options.extensions, options.overrides)
    times = _times(options.submitted_at)
    progress = Progress()
    finished: list[Settled] = []

    def export(run: BatchRun) -> None:
        """Final scores and what moved (regrade.finalise_scores), then every export."""
        settled = finalise_scores(course, run.results, run.students, run.files,
                                  options.outdir, extensions=extension_rows,
                                  overrides=override_rows, elsewhere=run.elsewhere,
                                  times=times)
        write_exports(options.outdir, settled.result,
                      canvas_id=canvas_column(options.canvas_id, run.layout), similarity=link)
        finished.append(settled)

    selection = Selection(frozenset(options.student_ids),
                          Only(options.only) if options.only else None, options.force)
    request = BatchRequest(options.submissions, options.outdir, exercises=tuple(exercises),
                           jobs=options.jobs, selection=selection,
                           layout=Layout(options.layout) if options.layout else None,
                           shard=shard, roster=roster_rows, executor=executor,
                           progress=progress, export=export)
    run = _graded(course, request, progress)
    settled = finished[0]
    warn([*run.warnings, *settled.warnings,
          *unmatched_warning(settled.result, roster_rows is not None)])
    if similarity is not None:
        write_similarity_report(options.outdir, similarity)
    if options.dask_address:
        warn_weakened_workers(run.results)
    lines = _summary(run, settled, options.outdir, "Dask " if options.dask_address else "")
    lines[1:1] = assigned_line(course, run, bool(options.exercise_ids))
    if shard is not None:
        lines.append(f"this is shard {shard} ({len(run.results.students)} students); join "
                     "every shard's OUTDIR with: grade merge OUT1 OUT2 ... --out OUTDIR")
    click.echo("\n".join(lines))
    if options.nbgrader_db:
        _to_nbgrader(options.nbgrader_db, options.nbgrader_assignment, settled)


@dataclass(frozen=True)
class BatchOptions:
    """`grade batch`'s command line, as click parsed it (one field per option)."""

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


def _probe_sandbox() -> None:
    """Say what the local workers' sandboxes will be able to do, or stop if none starts."""
    try:
        with make_sandbox() as probe:
            warn_weakened(probe, batch=True)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")


def _graded(course: Course, request: BatchRequest, progress: Progress) -> BatchRun:
    """The run; on Ctrl-C or SIGTERM, say that every result so far is saved, and exit."""
    previous = signal.signal(signal.SIGTERM, _terminated)  # `kill PID` is a Ctrl-C too
    try:
        run = run_batch(course, request)
    except BatchError as exc:
        progress.close()
        die(str(exc))
    except KeyboardInterrupt as exc:
        progress.close()
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        click.echo(f"\n{how}: every result so far is saved in {request.outdir / JOURNAL}; "
                   "run the same command again to finish", err=True)
        sys.exit(TERMINATED if isinstance(exc, Terminated) else INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    progress.close()
    return run


def _to_nbgrader(database: str, assignment: str, settled: Settled) -> None:
    from grader.cli.export import need_nbgrader
    from grader.reports.nbgrader_grades import write_nbgrader_grades

    need_nbgrader()
    count = write_nbgrader_grades(database, assignment, settled.result.students)
    click.echo(f"wrote {count} grades into {database} (assignment {assignment})")


def _dask(address: str, allow_uncontained: bool) -> ExecutorFactory:
    try:
        from grader.batch.cluster import UNCONTAINED_NOTE, contained, dask_pool
    except ImportError:
        die("--dask needs Dask's distributed package: pip install -e '.[dask]' in grade's checkout")

    def show(workers: list[WorkerInfo]) -> None:
        """Each worker's isolation, before any file is graded (the local batch's note)."""
        for info in workers:
            click.echo(f"Dask worker {info.worker} ({info.host}): isolation {info.level}",
                       err=True)
        for info in workers:
            if allow_uncontained and not contained(info):
                click.echo(UNCONTAINED_NOTE.format(**info.model_dump()), err=True)

    return dask_pool(address, allow_uncontained, show)


def warn_weakened_workers(result: ClassResult) -> None:
    """Say once per worker, on stderr, which isolation measures it could not apply."""
    for use in result.workers:
        if use.worker.missing:
            click.echo(f"note: reduced isolation on worker {use.worker.worker} "
                       f"({use.worker.host}: no {', '.join(use.worker.missing)}); see README, "
                       "'Threat model'", err=True)
