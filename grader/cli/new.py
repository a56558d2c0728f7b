"""`grade new ID --title T`: scaffold an exercise that passes `grade check` at once."""

from __future__ import annotations

import click

from grader.authoring import ScaffoldError, new_exercise
from grader.authoring.build import relative
from grader.cli.context import command_names, course_file, course_from, die

ROLES = ("the reference solution; its marked parts become blanks",
         "the checks (public: they ship to learners): one example",
         "the new exercise appended, comments kept",
         "the learner's skeleton, built from the solution",
         "the same skeleton as a Jupyter notebook")


@click.command("new")
@click.argument("exercise_id", metavar="ID")
@click.option("--title", required=True, help="The title learners see.")
@click.option("--file", "file", default=None,
              help="File name of the skeleton and solution (default: from ID and title).")
@click.pass_context
def new(ctx: click.Context, exercise_id: str, title: str, file: str | None) -> None:
    """Add exercise ID: a marked solution, a checks file, its course.yaml entry, a skeleton.

    Exit status: 0 added, 2 not added (the message says why).
    """
    course = course_from(ctx)
    reserved = command_names(ctx)
    try:
        written = new_exercise(course, course_file(ctx), exercise_id, title, file=file,
                               reserved=reserved)
    except ScaffoldError as exc:
        die(str(exc))
    shown = [relative(course, path) for path in written]
    width = max(map(len, shown))
    for name, role in zip(shown, ROLES, strict=False):
        click.echo(f"  {name:<{width}}  {role}")
    click.echo(f"next: write the exercise in {relative(course, written[0])} and its checks, "
               f"then run  grade build {exercise_id} && grade check {exercise_id}")
