"""Grading a course's exercises: the checks catalogue, and a grader that opens channels.

`Catalogue` knows each exercise's checks and turns outcomes into results; it needs no
sandbox (a batch's main process uses it for missing files and max scores). `Grader`
adds `Boxes`, where each submission gets its channel: a sandbox, an in-process host
or grade check's recorder, all behind one protocol.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from grader.checks import Check, load_checks
from grader.kinds import NOT_RUN, CheckStatus, ErrorKind, Hidden
from grader.runner.pipeline import (
    Failure,
    Halted,
    load,
    preflight,
    restartable,
    run_until_stop,
    stopped,
    verdict,
)
from grader.runner.read import read
from grader.runner.record import Record
from grader.runner.source import Source, SubmissionError
from grader.runner.verdicts import Graded, Verdict, modelled
from grader.sandbox.client import SandboxError
from grader.sandbox.modules import named

if TYPE_CHECKING:  # the messages' types (TypedDicts: building them costs a learner's run)
    from grader.course import Course, Exercise
    from grader.results import ExerciseResult
    from grader.sandbox.channel import Boxes, BoxLimits


class LimitsView(Protocol):
    """What a box needs of a submission's limits: course.Limits, or the learner's plan's."""

    @property
    def time_limit(self) -> float: ...
    @property
    def memory_mb(self) -> int: ...
    @property
    def file_size_kb(self) -> int: ...
    @property
    def output_chars(self) -> int: ...
    @property
    def disk_kb(self) -> int: ...
    @property
    def disk_files(self) -> int: ...


def box_limits(limits: LimitsView) -> BoxLimits:
    """The limits as the sandbox's zygote applies them."""
    return {"memory_mb": limits.memory_mb, "cpu_seconds": int(limits.time_limit) + 1,
            "file_size_kb": limits.file_size_kb, "output_chars": limits.output_chars,
            "disk_kb": limits.disk_kb, "disk_files": limits.disk_files}


class ChecksError(Exception):
    """An exercise's checks file cannot be imported: the author's problem, not the learner's."""


def _seconds(started: float) -> float:
    return round(time.monotonic() - started, 4)


def checks_of(exercise_id: str, path: Path) -> list[Check]:
    """Exercise `exercise_id`'s checks, imported from `path`; ChecksError if the
    author's file is broken."""
    try:
        return load_checks(path)
    except Exception as exc:  # anything the author's module raises at import
        raise ChecksError(f"cannot load the checks of {exercise_id} ({path}): "
                          f"{type(exc).__name__}: {exc}") from exc


class Sheet(Record):
    """One exercise's checks, and the results made from them: a plain `Graded` (see
    runner/verdicts.py), which needs neither the course's models nor pydantic."""

    __slots__ = ("checks", "exercise", "withheld")
    exercise: str
    checks: list[Check]
    withheld: Hidden | None

    def __init__(self, exercise: str, checks: list[Check], withheld: Hidden | None = None
                 ) -> None:
        self._set(exercise=exercise, checks=checks, withheld=withheld)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def failed(self, failure: Failure, started: float, output: str = "") -> Graded:
        """A result with `error` set: score 0, no check counted (SPEC: error means 0)."""
        checks = [verdict(c, CheckStatus.NOT_RUN, failure.notes.get(c.id, NOT_RUN))
                  for c in self.checks]
        return Graded(exercise=self.exercise, score=0.0, max_score=self.max_score,
                      error=failure.error, checks=checks, output=output,
                      seconds=_seconds(started), error_kind=failure.kind,
                      error_line=failure.line, error_cell=failure.cell, withheld=self.withheld)

    def graded(self, results: list[Verdict], output: str, started: float) -> Graded:
        return Graded(exercise=self.exercise, score=sum(r.score for r in results),
                      max_score=self.max_score, error=None, checks=results, output=output,
                      seconds=_seconds(started), withheld=self.withheld)


def grade_path(boxes: Boxes, sheet: Sheet, path: Path, limits: LimitsView, max_source_kb: int,
               started: float) -> Graded:
    """Read the file at `path` (`.py` or `.ipynb`, up to `max_source_kb`) and grade it."""
    try:
        source = read(path, max_source_kb)
    except SubmissionError as exc:
        return sheet.failed(Failure.refused(exc), started)
    return grade_in_boxes(boxes, sheet, source, limits, started)


def grade_in_boxes(boxes: Boxes, sheet: Sheet, source: Source, limits: LimitsView,
                   started: float) -> Graded:
    """Pre-flight, load and check `source`; a box that stops during a check costs that
    check (errored, its message naming it) and a fresh box runs the checks left, so one
    hang never zeroes the checks that do not reach it."""
    refused = preflight(source)
    if refused is not None:
        return sheet.failed(refused, started)
    checks = sheet.checks
    results: list[Verdict] = []
    output: list[str] = []
    first: Failure | None = None  # the first stop, for a file no check finished in
    modules = named(source.text)  # what its zygote loads for this file's boxes only
    while len(results) < len(checks):
        try:
            box = boxes.box(box_limits(limits), limits.time_limit, modules)
        except SandboxError as exc:
            return sheet.failed(Failure(
                f"the grader's sandbox failed ({exc}); please tell your teaching "
                "assistant", ErrorKind.GRADER_FAULT), started, "".join(output))
        with box:
            loaded = load(source, box)
            if isinstance(loaded, Failure):  # loading is the same in every box
                return sheet.failed(first or loaded, started,
                                    "".join([*output, *box.output]))
            ran = run_until_stop(checks[len(results):], loaded)
            output += box.output
        if not isinstance(ran, Halted):
            results += ran
            break
        notes = {c.id: f"not counted: {r.message}" for c, r in zip(checks, results)}
        failure = stopped(ran.stop, source, ran.during, notes)
        first = first or failure
        results += [*ran.results, verdict(ran.during, CheckStatus.ERRORED, failure.error)]
        if not restartable(ran.stop):
            return sheet.failed(failure, started, "".join(output))
    if first is not None and all(r.status is CheckStatus.ERRORED for r in results):
        return sheet.failed(first, started, "".join(output))
    return sheet.graded(results, "".join(output), started)


class Catalogue:
    """A course's checks, imported once per exercise, and the results made from them."""

    def __init__(self, course: Course, only: str | None = None) -> None:
        self.course = course
        self.only = only  # `grade exercise-N -k TEXT`: run only checks whose name has TEXT
        self._checks: dict[str, list[Check]] = {}

    def checks(self, exercise: Exercise) -> list[Check]:
        """The exercise's checks, imported once; ChecksError if the author's file is broken."""
        if exercise.id not in self._checks:
            checks = checks_of(exercise.id, self.course.checks_path(exercise))
            if self.only is not None:
                checks = [c for c in checks if self.only.casefold() in c.name.casefold()]
            self._checks[exercise.id] = checks
        return self._checks[exercise.id]

    def max_score(self, exercise: Exercise) -> float:
        return sum(c.points for c in self.checks(exercise))

    def sheet(self, exercise: Exercise) -> Sheet:
        return Sheet(exercise.id, self.checks(exercise), exercise.withheld)

    def failed(self, exercise: Exercise, failure: Failure, started: float,
               output: str = "") -> ExerciseResult:
        """A result with `error` set: score 0, no check counted (SPEC: error means 0)."""
        return modelled(self.sheet(exercise).failed(failure, started, output))

    def graded(self, exercise: Exercise, results: list[Verdict], output: str,
               started: float) -> ExerciseResult:
        return modelled(self.sheet(exercise).graded(results, output, started))


class Grader:
    """Grades submissions: one channel from `boxes` per submission, checks from `catalogue`.

    Checks are imported once per exercise and a sandbox's zygote starts once; both
    serve every submission, which is what makes a batch fast.
    """

    def __init__(self, course: Course, boxes: Boxes, only: str | None = None,
                 catalogue: Catalogue | None = None) -> None:
        self.course = course
        self.boxes = boxes
        self.catalogue = catalogue or Catalogue(course, only)

    def checks(self, exercise: Exercise) -> list[Check]:
        return self.catalogue.checks(exercise)

    def grade(self, exercise: Exercise, path: Path) -> ExerciseResult:
        """Grade the file at `path` (`.py` or `.ipynb`)."""
        started = time.monotonic()
        limits = self.course.limits_for(exercise)
        return modelled(grade_path(self.boxes, self._sheet(exercise), path, limits,
                                   limits.max_source_kb, started))

    def grade_source(self, exercise: Exercise, source: Source | str,
                     filename: str = "submission.py",
                     started: float | None = None) -> ExerciseResult:
        """Grade source already read (a `str` is the text of a .py file named `filename`)."""
        started = time.monotonic() if started is None else started
        source = Source(source, filename) if isinstance(source, str) else source
        return modelled(grade_in_boxes(self.boxes, self._sheet(exercise), source,
                                       self.course.limits_for(exercise), started))

    def _sheet(self, exercise: Exercise) -> Sheet:
        # its checks from self.checks: a subclass's hook (grade check's RecordingGrader
        # marks which check is asking) sees every check that runs
        return Sheet(exercise.id, self.checks(exercise), exercise.withheld)
