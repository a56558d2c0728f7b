"""The `grade` click group: every command, imported when used.

Each command lives in its own module and only parses, calls the runner, and hands
results to a renderer. A learner's `grade exercise-1` never pays for the batch
engine's imports. Exercise ids are commands too: `CourseGroup` turns any id in
course.yaml into a grading command.
"""

from __future__ import annotations

import click

from grader.cli.commands import COMMANDS
from grader.cli.group import CourseGroup
from grader.version import __version__

__all__ = ["COMMANDS", "cli"]


@click.group(cls=CourseGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="grade")
@click.option("--course", "course_path", type=click.Path(path_type=str), default=None,
              help="course.yaml or its folder (default: found from the current folder).")
@click.pass_context
def cli(ctx: click.Context, course_path: str | None) -> None:
    """Grade exercises of a course: `grade exercise-1` grades your exercise 1.

    \b
    Exit status: 0 full marks, 1 graded without full marks, 2 usage or course error.
    """
    ctx.ensure_object(dict)
    ctx.obj["course_path"] = course_path
