"""`grade build`: regenerate learners' skeletons in exercises/ from the marked solutions."""

from __future__ import annotations

import sys

import click

from grader.authoring import BuildError, build_course
from grader.authoring.build import relative
from grader.cli.context import course_from, exercises_named
from grader.reports.problems import render_problems


@click.command("build")
@click.argument("ids", nargs=-1)
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; list out-of-date files and exit 1 if there are any.")
@click.pass_context
def build(ctx: click.Context, ids: tuple[str, ...], check_only: bool) -> None:
    """Make each exercise's skeleton from its solution (all exercises, or IDS).

    \b
    Marked parts of a solution become blanks (docs/authoring.md):
      code  # BLANK: piece | comment    the piece becomes ___
      # BEGIN SOLUTION ... # END SOLUTION  the region becomes its # OUTLINE: lines
    Exit status: 0 done (or up to date), 1 out of date (--check), 2 cannot build.
    """
    course = course_from(ctx)
    try:
        changed = build_course(course, exercises=exercises_named(course, ids),
                               check=check_only)
    except BuildError as exc:
        click.echo(render_problems(exc.problems), err=True)
        sys.exit(2)
    verb = "out of date:" if check_only else "wrote"
    for path in changed:
        click.echo(f"{verb} {relative(course, path)}")
    if not changed:
        click.echo(f"{course.exercises_dir}/ is up to date")
    sys.exit(1 if check_only and changed else 0)
