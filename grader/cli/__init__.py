"""The `grade` command line. Each command lives in its own module and only parses,
calls the runner, and hands results to a renderer.

Commands are imported when used (a learner's `grade exercise-1` never pays for
the batch engine's imports). Exercise ids are commands too: `CourseGroup` turns
any id in course.yaml into a grading command.
"""

from __future__ import annotations

import os
import sys

import click

from grader import __version__
from grader.cli.context import INTERRUPTED, USAGE_ERROR, CourseGroup

# name -> "module:attribute", imported on first use
COMMANDS = {
    "batch": "grader.cli.batch:batch",
    "build": "grader.cli.build:build",
    "check": "grader.cli.check:check",
    "ci": "grader.cli.platforms:ci",
    "export": "grader.cli.export:export",
    "gradescope": "grader.cli.platforms:gradescope",
    "hint": "grader.cli.hint:hint",
    "list": "grader.cli.info:list_exercises",
    "merge": "grader.cli.merge:merge",
    "new": "grader.cli.new:new",
    "prairielearn": "grader.cli.platforms:prairielearn",
    "release": "grader.cli.release:release",
    "schema": "grader.cli.schema:schema",
    "status": "grader.cli.status:status",
    "watch": "grader.cli.watch:watch",
}


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


def main() -> None:
    """The console script: never a grader traceback for a learner (GRADE_DEBUG=1 shows it)."""
    try:
        cli(prog_name="grade", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors: exit status 2
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\ninterrupted", err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:
        if os.environ.get("GRADE_DEBUG"):
            raise
        click.echo(f"error: grade failed unexpectedly ({type(exc).__name__}: {exc}). "
                   "This is a bug in the grader, not in your work: please report it "
                   "(GRADE_DEBUG=1 shows the details).", err=True)
        sys.exit(USAGE_ERROR)
