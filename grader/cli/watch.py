"""`grade watch [EXERCISE]`: grade on every save, until Ctrl-C."""

from __future__ import annotations

import sys

import click

from grader.cli.context import course_from, die, exercises_named, warn_weakened
from grader.cli.learner import checks_or_die, show_notes
from grader.progress import Recorder, next_unfinished
from grader.runner import Grader
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox
from grader.watch import WatchSession


@click.command("watch")
@click.argument("exercise_id", metavar="[EXERCISE]", required=False)
@click.option("--notebook", is_flag=True,
              help="Watch the Jupyter notebook of each exercise (exercises/<name>.ipynb) "
                   "instead of its .py file.")
@click.pass_context
def watch(ctx: click.Context, exercise_id: str | None, notebook: bool) -> None:
    """Grade your file every time you save it; Ctrl-C to stop.

    Without EXERCISE, starts at the first exercise without full marks; at full
    marks it moves on to the next unfinished one.
    """
    course = course_from(ctx)
    recorder = Recorder(course)
    if exercise_id is None:
        exercise_id = next_unfinished(course, recorder.done())
        if exercise_id is None:
            show_notes(recorder)
            click.echo(f"Every exercise of this course has full marks. To keep working on "
                       f"one: grade watch {course.exercises[0].id}")
            return
    exercise = exercises_named(course, [exercise_id])[0]
    try:
        with make_sandbox() as sandbox:
            warn_weakened(sandbox)
            grader = Grader(course, sandbox)
            for each in course.exercises:
                checks_or_die(grader, each)
            session = WatchSession(course, grader, recorder, _write, clear=sys.stdout.isatty(),
                                   notebook=notebook)
            session.run(exercise)
    except KeyboardInterrupt:  # the way to leave: quietly, and not as a failure
        click.echo("")
        sys.exit(0)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")


def _write(screen: str) -> None:
    click.echo(screen)
    sys.stdout.flush()
