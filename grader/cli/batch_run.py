"""`grade batch`'s work once its workers are starting: read, grade, export, summarise."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader.batch import BatchError, BatchRequest, BatchRun, run_batch
from grader.batch.executor import ExecutorFactory
from grader.batch.names import JOURNAL, Layout
from grader.batch.pool import LOCAL_WORKER, EarlyPool
from grader.batch.select import Only, Selection
from grader.cli.batch_options import BatchOptions, canvas_column
from grader.cli.context import die, say_weakened
from grader.cli.exits import INTERRUPTED
from grader.course import Course, Exercise
from grader.results import ClassResult, WorkerInfo

# The final scores' and the exports' modules are imported once the first result is in
# (`export_modules`), while the workers grade the rest: before the fork they delayed
# every file's start, now that the workers' zygotes are booted as the command starts.
# The TA's tables, the shard, the times handed in: read by this process alone, after the
# workers are forked (`grade_class`), so imported there (batch/run.py says the same).
if TYPE_CHECKING:
    from grader.batch.adjust import Extension, Override
    from grader.batch.regrade import Settled
    from grader.batch.roster import RosterRow
    from grader.batch.shard import Shard
    from grader.batch.submitted import Times
    from grader.reports.export import Ahead

TERMINATED = 128 + signal.SIGTERM  # the shell's status for a process ended by SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the batch stops as on Ctrl-C (results saved, workers gone)."""


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated


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


def export_modules() -> None:
    """Import what the final scores and the exports need, and build the validators and
    serializers of the models they make (the first result is in). Built on first use,
    they cost 8 ms after the last result, when nothing else runs beside this process;
    now, while the workers grade, the other core takes part of it."""
    import grader.batch.regrade
    import grader.reports.export  # noqa: F401
    from grader.batch.changes import RunState, StateRow
    from grader.reports.canvas import CanvasRow
    from grader.reports.gradebook import Gradebook, GradebookEntry
    from grader.reports.gradescope import GradescopeResults, GradescopeTest
    from grader.reports.moodle import MoodleRow, Unmatched
    from grader.results import ClassResult, Person, StudentResult, WorkerUse

    for model in (StudentResult, WorkerUse, Person, ClassResult, StateRow, RunState,
                  GradebookEntry, Gradebook, CanvasRow, MoodleRow, Unmatched, GradescopeTest,
                  GradescopeResults):
        model.model_rebuild()


def _summary(run: BatchRun, settled: Settled, outdir: Path, where: str = "") -> list[str]:
    from grader.reports.export import summary as exports_summary

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
    from grader.reports.moodle import unmatched_in_moodle

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


def tables(course: Course, roster: Path | None, extensions: Path | None,
           overrides: Path | None) -> tuple[list[RosterRow] | None, list[Extension],
                                            list[Override]]:
    """The TA's CSV files: the roster if given; extensions and overrides from the
    options, else from extensions.csv and overrides.csv beside course.yaml."""
    extensions = extensions or _beside(course, "extensions.csv")
    overrides = overrides or _beside(course, "overrides.csv")
    if roster is None and extensions is None and overrides is None:
        # Nothing to read: the readers (8 ms of imports, pydantic models) are not
        # imported while the workers wait for their first file.
        return None, [], []
    from grader.batch.adjust import read_extensions, read_overrides
    from grader.batch.roster import check_ids, read_roster
    from grader.batch.tables import TableError
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
    from grader.batch.submitted import Times, read_times
    from grader.batch.tables import TableError

    try:
        return Times(read_times(path))
    except (TableError, OSError, UnicodeDecodeError) as exc:
        die(str(exc))
    raise AssertionError("unreachable")


def _beside(course: Course, name: str) -> Path | None:
    path = course.root / name
    return path if path.is_file() else None


def _shard(text: str | None) -> Shard | None:
    """--shard's share, or None; imported only then: the workers wait for their first
    file until the class is read, and a shard's module is 6 ms of pydantic models."""
    if not text:
        return None
    from grader.batch.shard import Shard, ShardError

    try:
        return Shard.parse(text)
    except ShardError as exc:
        die(str(exc))
    raise AssertionError("unreachable")


def grade_class(ctx: click.Context, course: Course, options: BatchOptions,
                exercises: list[Exercise], early: EarlyPool | None) -> None:
    """The batch `options` ask for, on `early`'s workers if they were started."""
    shard = _shard(options.shard_text)
    executor = (_dask(options.dask_address, options.allow_uncontained)
                if options.dask_address else early)
    similarity, link = None, None
    if options.with_similarity:  # compared before grading, written after it (report.html links it)
        from grader.cli.similarity import compare_submissions, write_similarity_report
        from grader.reports.html import SimilarityLink
        from grader.similarity.html import INDEX

        similarity = compare_submissions(ctx, options.submissions, options.exercise_ids,
                                         exclude=options.outdir)
        link = SimilarityLink(INDEX, similarity.flagged, similarity.threshold)
    roster_rows, extension_rows, override_rows = tables(
        course, options.roster, options.extensions, options.overrides)
    times = _times(options.submitted_at)
    progress = Progress()
    finished: list[Settled] = []
    ahead: Ahead | None = None  # made at the first result, when the exports' modules load

    def graded(result: ClassResult) -> None:
        """Write a student's own export files as soon as their every file is graded."""
        nonlocal ahead
        if ahead is None:
            from grader.reports.export import Ahead

            ahead = Ahead(options.outdir)
        ahead.write(result)

    def export(run: BatchRun) -> None:
        """Final scores and what moved (regrade.finalise_scores), then every export."""
        from grader.batch.regrade import finalise_scores
        from grader.reports.export import write_exports

        settled = finalise_scores(course, run.results, run.students, run.files,
                                  options.outdir, extensions=extension_rows,
                                  overrides=override_rows, elsewhere=run.elsewhere,
                                  times=times,
                                  known=ahead.feedback_digest if ahead is not None else None)
        write_exports(options.outdir, settled.result,
                      canvas_id=canvas_column(options.canvas_id, run.layout), similarity=link,
                      feedback=settled.feedback, ahead=ahead)
        settled.feedback = {}  # written: not held through the summary
        finished.append(settled)

    selection = Selection(frozenset(options.student_ids),
                          Only(options.only) if options.only else None, options.force)
    request = BatchRequest(options.submissions, options.outdir, exercises=tuple(exercises),
                           jobs=options.jobs, selection=selection,
                           layout=Layout(options.layout) if options.layout else None,
                           shard=shard, roster=roster_rows, executor=executor,
                           progress=progress, export=export, first=export_modules,
                           graded=graded)
    try:
        run = _graded(course, request, progress)
    finally:  # stopped before its exports (an error, Ctrl-C): no temporary file is left
        if ahead is not None:
            ahead.discard()
    settled = finished[0]
    warn([*run.warnings, *settled.warnings,
          *unmatched_warning(settled.result, roster_rows is not None)])
    if similarity is not None:
        write_similarity_report(options.outdir, similarity)
    if options.dask_address:
        warn_weakened_workers(run.results)
    else:
        warn_weakened_here(run.results)
    lines = _summary(run, settled, options.outdir, "Dask " if options.dask_address else "")
    lines[1:1] = assigned_line(course, run, bool(options.exercise_ids))
    if shard is not None:
        lines.append(f"this is shard {shard} ({len(run.results.students)} students); join "
                     "every shard's OUTDIR with: grade merge OUT1 OUT2 ... --out OUTDIR")
    click.echo("\n".join(lines))
    if options.nbgrader_db:
        _to_nbgrader(options.nbgrader_db, options.nbgrader_assignment, settled)


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


def warn_weakened_here(result: ClassResult) -> None:
    """Say once, on stderr, what isolation this machine's workers could not apply.

    Read from the workers' own report after grading, as with --dask: a sandbox
    started before the pool only to say this cost every batch a zygote's start-up
    on its critical path. A sandbox that cannot start at all stops the batch from
    the workers (`WorkerError`), before any file is graded.
    """
    local = [u.worker for u in result.workers if u.worker.worker.startswith(LOCAL_WORKER)]
    if local:
        say_weakened(local[0].level, local[0].missing, batch=True)


def warn_weakened_workers(result: ClassResult) -> None:
    """Say once per worker, on stderr, which isolation measures it could not apply."""
    for use in result.workers:
        if use.worker.missing:
            click.echo(f"note: reduced isolation on worker {use.worker.worker} "
                       f"({use.worker.host}: no {', '.join(use.worker.missing)}); see README, "
                       "'Threat model'", err=True)
