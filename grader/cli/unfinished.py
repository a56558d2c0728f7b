"""A learner's file with `___` blanks left, reported from the course cache's plan alone.

Nothing of it can run, so nothing needs the sandbox, the course's models or the
result models (pydantic): the report is made from the file, the checks' names and
points and the plan, through the same `render` as every other report. Not recorded
in the progress file (grader/progress/record.py says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.checks import load_checks
from grader.kinds import NOT_RUN, ErrorKind
from grader.reports.text import render
from grader.runner.source import Source, SubmissionError, preflight


@dataclass(frozen=True)
class NotRun:
    """A check that a file with blanks never reached (CheckResult's fields, as shown)."""

    name: str
    max_score: float
    passed: bool = False
    score: float = 0.0
    message: str = NOT_RUN
    hint: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Hidden:
    """The hidden checks a learner's release leaves out (the course's `withheld`)."""

    checks: int
    points: float


@dataclass(frozen=True)
class Unfinished:
    """A file with blanks left, as ExerciseResult would hold it: score 0, no check run."""

    exercise: str
    error: str
    checks: list[NotRun]
    withheld: Hidden | None
    score: float = 0.0
    output: str = ""
    full_marks: bool = False

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def final_max_score(self) -> float:
        return self.max_score + (self.withheld.points if self.withheld else 0.0)


def blanks_left(source: Source | None) -> SubmissionError | None:
    """Why `source` has blanks left (the pre-flight's refusal); None otherwise."""
    if source is None:
        return None
    try:
        preflight(source)
    except SubmissionError as exc:
        return exc if exc.kind is ErrorKind.BLANKS else None
    return None


def unfinished_report(exercise_id: str, title: str, checks_file: Path,
                      withheld: Hidden | None, source: Source | None,
                      encoding: str | None) -> str | None:
    """The report of `source` if it has blanks left; None when it needs the full grader
    (no blanks, or checks that do not import: the grader then says why)."""
    refused = blanks_left(source)
    if refused is None:
        return None
    try:
        checks = load_checks(checks_file)
    except Exception:  # anything the author's module raises: grading reports it, exit 2
        return None
    result = Unfinished(exercise_id, str(refused), [NotRun(c.name, c.points) for c in checks],
                        withheld)
    return render(result, title, encoding=encoding)
