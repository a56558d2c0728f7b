"""`grade hint exercise-N [FILE]`: the next, deeper hint for the first failing check."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from grader.cli.context import course_from, die, exercises_named, warn_weakened
from grader.cli.learner import checks_or_die, show_notes
from grader.progress import Recorder
from grader.progress.hints import next_hint
from grader.progress.record import fingerprint
from grader.runner import Grader
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox


@click.command("hint")
@click.argument("exercise_id", metavar="EXERCISE")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_context
def hint(ctx: click.Context, exercise_id: str, file: Path | None) -> None:
    """Show the next hint for the first check your EXERCISE file fails.

    Each call goes one hint deeper, from a nudge towards a near-answer; the
    grading itself is not recorded as a score.
    """
    course = course_from(ctx)
    exercise = exercises_named(course, [exercise_id])[0]
    path = file if file is not None else course.learner_path(exercise)
    source = fingerprint(path)
    try:
        with make_sandbox() as sandbox:
            warn_weakened(sandbox)
            grader = Grader(course, sandbox)
            checks_or_die(grader, exercise)
            result = grader.grade(exercise, path)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")
    if result.error is not None:
        click.echo(f"{exercise.id}: fix this first: {result.error}")
        return
    failing = [c for c in result.checks if not c.passed]
    if not failing:
        click.echo(f"{exercise.id}: every check passes; no hint needed.")
        return
    check = next((c for c in failing if c.hints), None)
    if check is None:
        click.echo(f"{exercise.id}: “{failing[0].name}” fails: {failing[0].message} "
                   "(it has no hint; the message says what was expected)")
        return
    recorder = Recorder(course)
    shown: list[tuple[str, bool]] = []
    recorder.store.update(lambda p: shown.append(
        next_hint(check, p.record(exercise.id).hints, source or "")))
    show_notes(recorder)
    text, last = shown[-1]
    click.echo(click.style(f"“{check.name}”", bold=True) + f" fails: {check.message}")
    click.echo("\n".join(textwrap.wrap(f"hint: {text}", width=88, subsequent_indent="  ")))
    if last:
        click.echo("(that is the last hint for this check)")
