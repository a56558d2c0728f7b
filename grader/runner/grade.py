"""Grading a course's exercises: the checks catalogue, and a grader that opens channels.

`Catalogue` knows each exercise's checks and turns outcomes into results; it needs no
sandbox (a batch's main process uses it for missing files and max scores). `Grader`
adds `Boxes`, where each submission gets its channel: a sandbox, an in-process host
or grade check's recorder, all behind one protocol.
"""

from __future__ import annotations

import time
from pathlib import Path

from grader.checks import Check, load_checks
from grader.course import Course, Exercise, Limits
from grader.kinds import NOT_RUN
from grader.results import CheckResult, CheckStatus, ErrorKind, ExerciseResult
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
from grader.runner.source import Source, SubmissionError
from grader.sandbox.channel import Boxes, BoxLimits
from grader.sandbox.client import SandboxError


def box_limits(limits: Limits) -> BoxLimits:
    """The limits as the sandbox's zygote applies them."""
    return BoxLimits(memory_mb=limits.memory_mb, cpu_seconds=int(limits.time_limit) + 1,
                     file_size_kb=limits.file_size_kb, output_chars=limits.output_chars,
                     disk_kb=limits.disk_kb, disk_files=limits.disk_files)


class ChecksError(Exception):
    """An exercise's checks file cannot be imported: the author's problem, not the learner's."""


def _seconds(started: float) -> float:
    return round(time.monotonic() - started, 4)


class Catalogue:
    """A course's checks, imported once per exercise, and the results made from them."""

    def __init__(self, course: Course, only: str | None = None) -> None:
        self.course = course
        self.only = only  # `grade exercise-N -k TEXT`: run only checks whose name has TEXT
        self._checks: dict[str, list[Check]] = {}

    def checks(self, exercise: Exercise) -> list[Check]:
        """The exercise's checks, imported once; ChecksError if the author's file is broken."""
        if exercise.id not in self._checks:
            path = self.course.checks_path(exercise)
            try:
                checks = load_checks(path)
            except Exception as exc:  # anything the author's module raises at import
                raise ChecksError(f"cannot load the checks of {exercise.id} ({path}): "
                                  f"{type(exc).__name__}: {exc}") from exc
            if self.only is not None:
                checks = [c for c in checks if self.only.casefold() in c.name.casefold()]
            self._checks[exercise.id] = checks
        return self._checks[exercise.id]

    def max_score(self, exercise: Exercise) -> float:
        return sum(c.points for c in self.checks(exercise))

    def failed(self, exercise: Exercise, failure: Failure, started: float,
               output: str = "") -> ExerciseResult:
        """A result with `error` set: score 0, no check counted (SPEC: error means 0)."""
        checks = [verdict(c, CheckStatus.NOT_RUN, failure.notes.get(c.id, NOT_RUN))
                  for c in self.checks(exercise)]
        return ExerciseResult(exercise=exercise.id, score=0.0, max_score=self.max_score(exercise),
                              error=failure.error, checks=checks, output=output,
                              seconds=_seconds(started), error_kind=failure.kind,
                              error_line=failure.line, error_cell=failure.cell,
                              withheld=exercise.withheld)

    def graded(self, exercise: Exercise, results: list[CheckResult], output: str,
               started: float) -> ExerciseResult:
        return ExerciseResult(exercise=exercise.id, score=sum(r.score for r in results),
                              max_score=self.max_score(exercise), error=None, checks=results,
                              output=output, seconds=_seconds(started),
                              withheld=exercise.withheld)


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
        try:
            source = read(path, self.course.limits_for(exercise).max_source_kb)
        except SubmissionError as exc:
            return self.catalogue.failed(exercise, Failure.refused(exc), started)
        return self.grade_source(exercise, source, started=started)

    def grade_source(self, exercise: Exercise, source: Source | str,
                     filename: str = "submission.py",
                     started: float | None = None) -> ExerciseResult:
        """Grade source already read (a `str` is the text of a .py file named `filename`)."""
        started = time.monotonic() if started is None else started
        source = Source(source, filename) if isinstance(source, str) else source
        limits = self.course.limits_for(exercise)
        refused = preflight(source)
        if refused is not None:
            return self.catalogue.failed(exercise, refused, started)
        return self._checked(exercise, source, limits, started)

    def _checked(self, exercise: Exercise, source: Source, limits: Limits,
                 started: float) -> ExerciseResult:
        """Load and check `source`; a box that stops during a check costs that check
        (errored, its message naming it) and a fresh box runs the checks left, so one
        hang never zeroes the checks that do not reach it."""
        checks = self.checks(exercise)
        results: list[CheckResult] = []
        output: list[str] = []
        first: Failure | None = None  # the first stop, for a file no check finished in
        while len(results) < len(checks):
            try:
                box = self.boxes.box(box_limits(limits), limits.time_limit)
            except SandboxError as exc:
                return self.catalogue.failed(exercise, Failure(
                    f"the grader's sandbox failed ({exc}); please tell your teaching "
                    "assistant", ErrorKind.GRADER_FAULT), started, "".join(output))
            with box:
                loaded = load(source, box)
                if isinstance(loaded, Failure):  # loading is the same in every box
                    return self.catalogue.failed(exercise, first or loaded, started,
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
                return self.catalogue.failed(exercise, failure, started, "".join(output))
        if first is not None and all(r.status is CheckStatus.ERRORED for r in results):
            return self.catalogue.failed(exercise, first, started, "".join(output))
        return self.catalogue.graded(exercise, results, "".join(output), started)
