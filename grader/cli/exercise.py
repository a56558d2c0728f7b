"""`grade exercise-N [FILE]`: grade one learner file and report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.context import course_from, die, warn_weakened
from grader.course import Exercise
from grader.reports.text import render
from grader.runner import ChecksError, Grader
from grader.sandbox.client import Sandbox, SandboxError


def exercise_command(exercise: Exercise) -> click.Command:
    @click.command(exercise.id, help=f"Grade {exercise.id}: {exercise.title}.\n\n"
                   f"FILE defaults to the course's exercises/{exercise.file}; "
                   "it may be a .py file or a Jupyter .ipynb notebook.")
    @click.argument("file", required=False, type=click.Path(path_type=Path))
    @click.option("--json", "as_json", is_flag=True,
                  help="Print exactly one JSON object (the report) on stdout.")
    @click.option("--output", "show_output", is_flag=True,
                  help="Also show what your code printed.")
    @click.pass_context
    def grade_one(ctx: click.Context, file: Path | None, as_json: bool,
                  show_output: bool) -> None:
        course = course_from(ctx)
        path = file if file is not None else course.learner_path(exercise)
        sandbox = Sandbox()
        grader = Grader(course, sandbox)
        try:
            # Blanks left, or not text: the verdict needs no sandbox, so none starts.
            result = grader.preflight(exercise, path)
            if result is None:
                sandbox.start_soon()  # the zygote boots while the checks are imported
                grader.checks(exercise)
                sandbox.ready()
                warn_weakened(sandbox)
                result = grader.grade(exercise, path)
        except ChecksError as exc:
            die(str(exc))
        except SandboxError as exc:
            die(f"the sandbox could not start: {exc}")
        finally:
            sandbox.close()
        if as_json:
            click.echo(result.model_dump_json())
        else:
            click.echo(render(result, exercise.title, encoding=sys.stdout.encoding,
                              show_output=show_output))
        sys.exit(0 if result.full_marks else 1)

    return grade_one
