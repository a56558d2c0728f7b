"""`grade check`: validate the whole course; exit 0 only when nothing is wrong."""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path

import click
from pydantic import TypeAdapter

from grader.authoring import validate_course
from grader.cli.context import command_names, course_file, course_from, die, exercises_named
from grader.course import ConfigError, load_course
from grader.reports.problems import render_problems
from grader.sandbox.client import SandboxError


def plural(count: float, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


@click.command("check")
@click.argument("ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
@click.option("--static", is_flag=True,
              help="Grade nothing: only course.yaml, files, markers, checks files, points.")
@click.option("--release", "release_dir", type=click.Path(file_okay=False, exists=True,
              path_type=Path), help="Verify a learner's release written by grade release.")
@click.pass_context
def check(ctx: click.Context, ids: tuple[str, ...], as_json: bool, static: bool,
          release_dir: Path | None) -> None:
    """List every problem of the course (or of exercises IDS) with its file and line.

    \b
    Checks course.yaml against its schema, that files exist and ids are unique,
    that skeletons are up to date with the solutions (`grade build`), that every
    check has a name and points adding up to course.yaml's, that checks files
    import; then grades: each solution must get full marks, each skeleton 0,
    and every check the same verdict twice in a row.
    Exit status: 0 no problem, 1 problems found, 2 could not check (usage).
    """
    if release_dir is not None:
        check_release(ctx, release_dir, as_json)
    path = course_file(ctx)
    if ids:
        with suppress(ConfigError):  # the report lists what is wrong with course.yaml
            exercises_named(load_course(path), ids)  # exits 2 on an unknown id
    reserved = command_names(ctx)
    try:
        report = validate_course(path, only=list(ids) or None, grade=not static,
                                 reserved=reserved)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")
    if as_json:
        click.echo(report.model_dump_json())
    elif report.problems:
        click.echo(render_problems(report.problems))
    else:
        graded = "" if static else "; solutions get full marks, skeletons 0, verdicts repeat"
        if report.release:
            graded = " (a learner's release: public checks only, no solutions to grade)"
        click.echo(f"course OK: {plural(report.exercises, 'exercise')}, "
                   f"{plural(report.checks, 'check')}, {plural(report.points, 'point')}{graded}")
    sys.exit(0 if report.ok else 1)


def check_release(ctx: click.Context, release_dir: Path, as_json: bool) -> None:
    """Verify the learner's release at `release_dir` against this course, then exit."""
    from grader.authoring.problems import Problem
    from grader.cli.release import release_problems

    problems = release_problems(course_from(ctx), release_dir)
    if as_json:
        click.echo(TypeAdapter(list[Problem]).dump_json(problems).decode())
    elif problems:
        click.echo(render_problems(problems))
    else:
        click.echo(f"release OK: {release_dir} has no solution line and no hidden check, "
                   "and its public checks judge as the course's")
    sys.exit(1 if problems else 0)
