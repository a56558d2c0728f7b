"""`grade exercise-N [FILE]`: grade one learner file, record it, and report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.checks import load_checks
from grader.cli.context import course_from, die, warn_weakened
from grader.cli.learner import checks_or_die, done_count, grade_recorded
from grader.cli.terminal import json_text
from grader.course import Exercise
from grader.progress import Recorder
from grader.reports.progress import full_marks_line, scope_line
from grader.reports.text import render
from grader.runner import Grader
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox, requested_level


def exercise_command(exercise: Exercise) -> click.Command:
    @click.command(exercise.id, help=f"Grade {exercise.id}: {exercise.title}.\n\n"
                   f"FILE defaults to the course's exercises/{exercise.file}; "
                   "it may be a .py file or a Jupyter .ipynb notebook.")
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
        course = course_from(ctx)
        path = file if file is not None else course.learner_path(exercise)
        recorder = Recorder(course)
        try:
            requested_level()  # a mistyped GRADE_SANDBOX is said at once, blanks or not
            sandbox = make_sandbox()
        except SandboxError as exc:  # an unknown GRADE_SANDBOX
            die(f"the sandbox could not start: {exc}")
        grader = Grader(course, sandbox, only=only)
        try:
            # Blanks left, or not text: the verdict needs no sandbox, so none starts.
            boxed = grader.preflight(exercise, path) is None
            if boxed:
                sandbox.start_soon()  # the zygote boots while the checks are imported
            if not checks_or_die(grader, exercise):
                names = "; ".join(c.name for c in load_checks(course.checks_path(exercise)))
                die(f"no check of {exercise.id} has {only!r} in its name "
                    f"(its checks: {names})")
            if boxed:
                sandbox.ready()
                warn_weakened(sandbox)
            result = grade_recorded(grader, recorder, exercise, path, hints=not as_json)
        except SandboxError as exc:
            die(f"the sandbox could not start: {exc}")
        finally:
            sandbox.close()
        if as_json:
            click.echo(json_text(result.model_dump_json()))
        else:
            click.echo(render(result, exercise.title, encoding=sys.stdout.encoding,
                              show_output=show_output))
            if only is not None:
                total = len(load_checks(course.checks_path(exercise)))
                click.echo(scope_line(only, len(result.checks), total))
            elif result.full_marks:
                click.echo(full_marks_line(exercise, done_count(recorder, course.exercises),
                                           len(course.exercises)))
        sys.exit(0 if result.full_marks else 1)

    return grade_one
