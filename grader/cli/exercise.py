"""`grade exercise-N [FILE]`: grade one learner file and report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.context import course_from, die, warn_weakened
from grader.cli.terminal import json_text
from grader.course import Exercise
from grader.reports.text import render
from grader.runner import Grader
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox


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
        try:
            with make_sandbox() as sandbox:
                warn_weakened(sandbox)
                grader = Grader(course, sandbox)
                try:
                    grader.checks(exercise)
                except Exception as exc:  # a broken checks file is the author's problem
                    die(f"cannot load the checks of {exercise.id} "
                        f"({course.checks_path(exercise)}): {type(exc).__name__}: {exc}")
                result = grader.grade(exercise, path)
        except SandboxError as exc:
            die(f"the sandbox could not start: {exc}")
        if as_json:
            click.echo(json_text(result.model_dump_json()))
        else:
            click.echo(render(result, exercise.title, encoding=sys.stdout.encoding,
                              show_output=show_output))
        sys.exit(0 if result.full_marks else 1)

    return grade_one
