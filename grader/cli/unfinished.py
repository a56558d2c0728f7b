"""A learner's file with `___` blanks left, reported from the course cache's plan alone.

Nothing of it can run, so nothing needs the sandbox, the course's models or the
result models (pydantic): the report is made from the file, the checks' names and
points and the plan, through the same `render` as every other report. Not recorded
in the progress file (grader/progress/record.py says why).
"""

from __future__ import annotations

from pathlib import Path

from grader.checks import load_checks
from grader.course.plan import Hidden
from grader.kinds import NOT_RUN
from grader.reports.text import render
from grader.runner.source import SubmissionError


class NotRun:
    """A check that a file with blanks never reached, as the report reads it (its
    `CheckView`): only the name and points vary, the rest are constants. (Plain
    classes, not dataclasses: cheaper to define on every skeleton's report.)"""

    __slots__ = ("max_score", "name")
    passed = False
    score = 0.0
    message = NOT_RUN
    hint = None
    detail = None

    def __init__(self, name: str, max_score: float) -> None:
        self.name = name
        self.max_score = max_score


class Unfinished:
    """A file with blanks left, as the report reads a result (its `ResultView`): score 0,
    no check run."""

    __slots__ = ("checks", "error", "exercise", "withheld")
    score = 0.0
    output = ""
    full_marks = False

    def __init__(self, exercise: str, error: str, checks: list[NotRun],
                 withheld: Hidden | None) -> None:
        self.exercise = exercise
        self.error = error
        self.checks = checks
        self.withheld = withheld

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def final_max_score(self) -> float:
        return self.max_score + (self.withheld.points if self.withheld else 0.0)


def unfinished_report(exercise_id: str, title: str, checks_file: Path,
                      withheld: Hidden | None, blanks: SubmissionError,
                      encoding: str | None) -> str | None:
    """The report of a file the pre-flight refused for its `blanks`; None when the checks
    do not import (the whole grader then says why, as the author's problem)."""
    try:
        checks = load_checks(checks_file)
    except Exception:  # anything the author's module raises
        return None
    result = Unfinished(exercise_id, str(blanks), [NotRun(c.name, c.points) for c in checks],
                        withheld)
    return render(result, title, encoding=encoding)
