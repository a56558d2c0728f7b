"""`grade exercise-N [FILE]`: grade one learner file, record it, and report.

A learner runs this dozens of times per exercise, so it starts in two steps: the file
is read and pre-flighted from what the course cache plans for it (no pydantic), and
when it will go into a box the sandbox starts then, and boots while the checks import.
A skeleton with blanks never starts one: it is reported right there, with no model at
all (cli/unfinished.py). A file that is not the exercise's own (a solution, a copy) is
graded and reported from the plan too, with the runner's plain results: no pydantic.
The models load only where a result leaves the process or is kept: `--json`, and the
progress file of the exercise's own file (and for `-k`, whose line names the checks).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.context import course_file, course_from, die, warn_weakened
from grader.cli.plainly import grade_plainly, is_own_file, not_own_note
from grader.cli.skeleton import read_early, refusal, take_started
from grader.course.load import cached_plan
from grader.course.plan import Planned as Planned  # cli/group.py makes commands of it
from grader.kinds import ErrorKind
from grader.runner.source import Source, SubmissionError
from grader.sandbox.asked import SandboxError, requested_level

if TYPE_CHECKING:
    from grader.course import Course
    from grader.progress.record import Recorder
    from grader.sandbox.client import SandboxBackend


def planned(ctx: click.Context, exercise_id: str) -> Planned | None:
    """`exercise_id` as the course cache plans it; None when the cache cannot say
    (cold, stale, or no such exercise): then the course is loaded."""
    path = course_file(ctx)
    return Planned.parse(exercise_id, (cached_plan(path) or {}).get(exercise_id),
                         path.resolve().parent)


def report_unfinished(plan: Planned, blanks: SubmissionError) -> None:
    """Report a file with `blanks` left and exit 1, before any model loads; returns only
    when its checks do not import (the whole grader then says why)."""
    from grader.cli.unfinished import unfinished_report

    report = unfinished_report(plan.id, plan.title, plan.checks_file, plan.withheld, blanks,
                               sys.stdout.encoding)
    if report is not None:
        click.echo(report)
        sys.exit(1)


def exercise_command(plan: Planned) -> click.Command:
    @click.command(plan.id, help=f"Grade {plan.id}: {plan.title}.\n\n"
                   f"FILE defaults to the course's {plan.learner_file.parent.name}/"
                   f"{plan.learner_file.name}; it may be a .py file or a Jupyter .ipynb "
                   "notebook.")
    @click.argument("file", required=False, type=click.Path(path_type=Path))
    @click.option("--json", "as_json", is_flag=True,
                  help="Print exactly one JSON object (the report) on stdout.")
    @click.option("--output", "show_output", is_flag=True,
                  help="Also show what your code printed.")
    @click.option("-k", "only", metavar="TEXT",
                  help="Run only the checks whose name contains TEXT (any case); "
                       "the score then covers only those checks.")
    @click.pass_context
    def grade_one(ctx: click.Context, file: Path | None, as_json: bool,
                  show_output: bool, only: str | None) -> None:
        path = file if file is not None else plan.learner_file
        try:
            requested_level()  # a mistyped GRADE_SANDBOX is said at once, blanks or not
        except SandboxError as exc:  # an unknown GRADE_SANDBOX
            die(f"the sandbox could not start: {exc}")
        source = read_early(path, plan.max_source_kb)
        refused = None if source is None else refusal(source)
        if refused is not None and refused.kind is ErrorKind.BLANKS and not as_json \
                and only is None:  # --json and -k need the models and the catalogue
            report_unfinished(plan, refused)
        booting = source is not None and refused is None
        sandbox = take_started(path)  # started before click, from the file's bytes
        if sandbox is None:
            from grader.sandbox.levels import make_sandbox  # processes, sockets: past a skeleton

            try:
                sandbox = make_sandbox()
            except SandboxError as exc:
                die(f"the sandbox could not start: {exc}")
            if booting:
                sandbox.start_soon()  # the zygote boots while the models and checks import
        try:
            status = None
            if source is not None and not as_json and only is None:
                status = (grade_own(ctx, plan, path, source, sandbox, booting, show_output)
                          if is_own_file(plan.learner_file, path)
                          else grade_plainly(plan, path, source, sandbox, booting, show_output))
            if status is None:
                status = grade_and_report(ctx, plan.id, path, source, sandbox, booting,
                                          as_json=as_json, show_output=show_output, only=only)
        except SandboxError as exc:
            die(f"the sandbox could not start: {exc}")
        finally:
            sandbox.close()
        sys.exit(status)

    return grade_one


class Loading:
    """The course's models and the learner's progress, loaded in a thread while a file
    grades: pydantic's import overlaps the box's work instead of preceding it."""

    def __init__(self, ctx: click.Context) -> None:
        self._ctx = ctx
        self._loaded: tuple[Course, Recorder] | None = None
        self._thread = threading.Thread(target=self._load, name="models", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            from grader.progress.record import Recorder

            course = course_from(self._ctx)
            self._loaded = course, Recorder(course)
        except BaseException:  # said again by `loaded`, in the main thread
            self._loaded = None

    def loaded(self) -> tuple[Course, Recorder]:
        """The course and its recorder; a course that fails to load exits 2 with why, as
        every command does (course_from), here in the main thread."""
        self._thread.join()
        if self._loaded is None:
            from grader.progress.record import Recorder

            course = course_from(self._ctx)
            return course, Recorder(course)
        return self._loaded


def grade_own(ctx: click.Context, plan: Planned, path: Path, source: Source,
              sandbox: SandboxBackend, booting: bool, show_output: bool) -> int | None:
    """Grade the exercise's own file from the course cache's `plan` while the models and
    the progress file load (`Loading`), then record and report it as `grade_and_report`
    does; the exit status as its, or None when the checks do not import."""
    from grader.checks import load_checks
    from grader.progress.record import fingerprint
    from grader.reports.text import render
    from grader.runner.grade import Sheet, grade_in_boxes
    from grader.runner.verdicts import modelled

    try:
        checks = load_checks(plan.checks_file)
    except Exception:  # anything the author's module raises
        return None
    loading = Loading(ctx)
    if booting:
        sandbox.ready()
        warn_weakened(sandbox)
    digest = fingerprint(path)
    graded = grade_in_boxes(sandbox, Sheet(plan.id, checks, plan.withheld), source,
                            plan.limits, time.monotonic())
    course, recorder = loading.loaded()
    from grader.cli.learner import done_count, show_notes
    from grader.reports.progress import full_marks_line

    exercise = course.exercise(plan.id)
    assert exercise is not None  # the plan came from this course's cache
    result = recorder.graded(exercise, modelled(graded), path, digest)
    show_notes(recorder)
    click.echo(render(result, exercise.title, encoding=sys.stdout.encoding,
                      show_output=show_output))
    if result.full_marks:
        click.echo(full_marks_line(exercise, done_count(recorder, course.exercises),
                                   len(course.exercises)))
    return 0 if result.full_marks else 1


def grade_and_report(ctx: click.Context, exercise_id: str, path: Path, source: Source | None,
                     sandbox: SandboxBackend, booting: bool, *, as_json: bool, show_output: bool,
                     only: str | None) -> int:
    """Grade `path` (already read as `source`, if it could be) as `exercise_id` with
    `sandbox` (`booting` if it was started), record it, print the report; the exit
    status: 0 at full marks, else 1."""
    # Imported here, after the sandbox started: these bring the models (pydantic).
    from grader.checks import load_checks
    from grader.cli.learner import checks_or_die, done_count, grade_recorded
    from grader.cli.terminal import json_text
    from grader.progress import Recorder
    from grader.progress.hints import deepen
    from grader.reports.progress import full_marks_line, scope_line
    from grader.reports.text import render
    from grader.runner import Grader

    course = course_from(ctx)
    exercise = course.exercise(exercise_id)
    assert exercise is not None  # the group made this command from the course
    recorder = Recorder(course)
    grader = Grader(course, sandbox, only=only)
    if not checks_or_die(grader, exercise):
        names = "; ".join(c.name for c in load_checks(course.checks_path(exercise)))
        die(f"no check of {exercise.id} has {only!r} in its name (its checks: {names})")
    if booting:
        sandbox.ready()
        warn_weakened(sandbox)
    own = is_own_file(course.learner_path(exercise), path)
    if own:
        result = grade_recorded(grader, recorder, exercise, path, source, hints=not as_json)
    else:  # an author's test answer, a copy: graded, but the learner's state is untouched
        result = (grader.grade(exercise, path) if source is None
                  else grader.grade_source(exercise, source))
        if not as_json:  # each check's first hint, worded as the learner's loop words it
            # (--json is for scripts: its stderr stays for problems, as for the learner's file)
            result = deepen(result, {}, None)
            not_own_note(path, course.learner_path(exercise))
    if as_json:
        click.echo(json_text(result.model_dump_json()))
    else:
        click.echo(render(result, exercise.title, encoding=sys.stdout.encoding,
                          show_output=show_output))
        if only is not None:
            total = len(load_checks(course.checks_path(exercise)))
            click.echo(scope_line(only, len(result.checks), total))
        elif result.full_marks and own:  # progress: only for the learner's own file
            click.echo(full_marks_line(exercise, done_count(recorder, course.exercises),
                                       len(course.exercises)))
    return 0 if result.full_marks else 1
