"""What the learner's commands (grade exercise-N, watch, hint) share: a recorded grading."""

from __future__ import annotations

from pathlib import Path

import click

from grader.checks import Check
from grader.cli.context import die
from grader.course import Exercise
from grader.progress import Recorder
from grader.progress.record import fingerprint
from grader.results import ExerciseResult
from grader.runner import ChecksError, Grader, Source


def checks_or_die(grader: Grader, exercise: Exercise) -> list[Check]:
    """The checks this grader runs for `exercise`; a broken checks file exits 2."""
    try:
        return grader.checks(exercise)
    except ChecksError as exc:  # a broken checks file is the author's problem
        die(str(exc))


def grade_recorded(grader: Grader, recorder: Recorder, exercise: Exercise, path: Path,
                   source: Source | None = None, *, hints: bool = True) -> ExerciseResult:
    """Grade `path` (or `source`, its text already read), record it in the progress
    file, and say any note about that file."""
    digest = fingerprint(path)
    result = (grader.grade(exercise, path) if source is None
              else grader.grade_source(exercise, source))
    partial = grader.catalogue.only is not None
    result = recorder.graded(exercise, result, path, digest, partial=partial, hints=hints)
    show_notes(recorder)
    return result


def show_notes(recorder: Recorder) -> None:
    for note in recorder.notes():
        click.echo(click.style("note: ", fg="yellow") + note, err=True)


def done_count(recorder: Recorder, exercises: list[Exercise]) -> int:
    return len(recorder.done() & {e.id for e in exercises})
