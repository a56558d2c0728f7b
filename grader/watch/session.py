"""One `grade watch` session: grade, redraw, wait for a save, move on at full marks."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from grader.course import Course, Exercise
from grader.progress import Recorder, next_unfinished
from grader.progress.record import fingerprint
from grader.reports.progress import full_marks_line
from grader.reports.text import render
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.watch.saves import backend_name, saves, signature

CLEAR = "\x1b[H\x1b[2J\x1b[3J"  # home, clear the screen and its scroll-back


class WatchSession:
    """Grades the watched exercise on every save and redraws the whole screen.

    `grader` and its sandbox live for the whole session, so a save costs one box
    and the checks, not a start-up.
    """

    def __init__(self, course: Course, grader: Grader, recorder: Recorder,
                 write: Callable[[str], None], clear: bool, notebook: bool = False) -> None:
        self.course = course
        self.notebook = notebook  # watch exercises/<stem>.ipynb instead of the .py file
        self.grader = grader
        self.recorder = recorder
        self.write = write
        self.clear = clear
        self.screens = 0  # one per save (or start): the screen's header numbers them
        self.backend = backend_name()

    def run(self, exercise: Exercise) -> None:
        """Watch `exercise`, then each next unfinished one; returns only on Ctrl-C."""
        banner: list[str] = []
        while True:
            path = self.path(exercise)
            since = signature(path)
            result = self._grade(exercise)
            moved = self._celebrate(exercise, result, banner)
            if moved is not None:
                exercise = moved
                continue
            self._draw(exercise, result, banner)
            banner = []
            for _ in saves(path, since):
                result = self._grade(exercise)
                moved = self._celebrate(exercise, result, banner)
                if moved is not None:
                    break
                self._draw(exercise, result, banner)
                banner = []
            if moved is None:  # cannot happen: saves() only ends when closed
                return
            exercise = moved

    def path(self, exercise: Exercise) -> Path:
        """The learner's file of `exercise`: its .py, or its notebook with --notebook."""
        path = self.course.learner_path(exercise)
        return path.with_suffix(".ipynb") if self.notebook else path

    def _grade(self, exercise: Exercise) -> ExerciseResult:
        path = self.path(exercise)
        source = fingerprint(path)
        result = self.grader.grade(exercise, path)
        return self.recorder.graded(exercise, result, path, source)

    def _celebrate(self, exercise: Exercise, result: ExerciseResult,
                   banner: list[str]) -> Exercise | None:
        """At full marks: a line for the banner, and the next unfinished exercise if any."""
        if not result.full_marks:
            return None
        done = self.recorder.done() & {e.id for e in self.course.exercises}
        banner.append(full_marks_line(exercise, len(done), len(self.course.exercises)))
        following = next_unfinished(self.course, done, after=exercise.id)
        if following is None:
            banner.append("Keep editing if you like: grade watch keeps grading "
                          f"{exercise.id}.")
            return None
        banner.append(f"Now watching {following}.")
        return self.course.exercise(following)

    def _draw(self, exercise: Exercise, result: ExerciseResult, banner: list[str]) -> None:
        failing_first = sorted(result.checks, key=lambda c: c.passed)
        shown = result.model_copy(update={"checks": failing_first})
        path = os.path.relpath(self.path(exercise))
        self.screens += 1
        lines = [click.style(f"grade watch · update #{self.screens} at "
                             f"{time.strftime('%H:%M:%S')} · Ctrl-C to stop", dim=True)]
        lines += [click.style("note: ", fg="yellow") + n for n in self.recorder.notes()]
        lines += [*banner, ""] if banner else [""]
        lines.append(render(shown, exercise.title, encoding=sys.stdout.encoding,
                            score_first=True))
        footer = click.style(f"Watching {path} ({self.backend}): save it to grade again.",
                             dim=True)
        if self.clear:
            self.write(CLEAR + fit_screen("\n".join(lines), footer))
        else:
            self.write("\n" + "\n".join([*lines, "", footer]))


def fit_screen(text: str, footer: str) -> str:
    """`text` cut to the terminal's height, so its top (the score) never scrolls away."""
    try:  # the terminal itself; COLUMNS/LINES left in the environment may be stale
        size = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        size = shutil.get_terminal_size()
    width, room = max(size.columns, 20), max(size.lines - 3, 5)
    kept: list[str] = []
    lines = text.splitlines()
    used = 0
    for index, line in enumerate(lines):
        rows = max(1, -(-len(click.unstyle(line)) // width))
        if used + rows > room:
            kept.append(click.style(f"… {len(lines) - index} more lines: make the window "
                                    "taller to see them", dim=True))
            break
        kept.append(line)
        used += rows
    return "\n".join([*kept, "", footer])

