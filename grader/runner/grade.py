"""Grade one submission: blanks first, then load it in a box, then run every check."""

from __future__ import annotations

import time
from pathlib import Path

from grader.checks import Check, CheckFailed, Submission, load_checks
from grader.checks.errors import explain
from grader.course import Course, Exercise
from grader.notebooks.source import NotebookSource
from grader.results import GRADER_FAULT, CheckResult, ExerciseResult
from grader.runner.source import (
    SubmissionError,
    check_text,
    describe_blanks,
    find_blanks,
    read_source,
)
from grader.sandbox.client import BoxStopped, Sandbox, SandboxError


def describe_stop(stop: BoxStopped | SandboxError, time_limit: float) -> str:
    """The learner's sentence for a box that stopped answering."""
    if isinstance(stop, SandboxError):
        return (f"{GRADER_FAULT[0]} while grading this file ({stop}); nothing "
                "was counted: grade it again, and tell your teaching assistant if it repeats")
    if stop.reason == "timeout":
        where = f" (it was running line {stop.line})" if stop.line else ""
        return (f"time limit: your code did not finish within {time_limit:g} s{where}; "
                "look for a loop that never ends")
    if stop.reason == "protocol":
        return "your code interfered with the grader's channel; nothing it reported counts"
    if stop.reason == "exit":
        return (f"your code ended its own process (os._exit({stop.detail}) or similar), so it "
                "could not be checked; remove that call")
    if stop.reason == "segfault":
        return ("your code crashed the Python interpreter (segmentation fault), usually by "
                "recursing far too deeply after raising the recursion limit")
    return ("your code stopped its own process (a crash, or running out of memory), so it "
            "could not be checked")


def _check_result(check: Check, error: CheckFailed | str | None, note: str = "") -> CheckResult:
    if error is None:
        return CheckResult(name=check.name, passed=True, score=check.points,
                           max_score=check.points, message=note or "passed")
    if isinstance(error, CheckFailed):
        return CheckResult(name=check.name, passed=False, score=0.0, max_score=check.points,
                           message=error.message, hint=error.hint, detail=error.detail)
    return CheckResult(name=check.name, passed=False, score=0.0, max_score=check.points,
                       message=error)


class ChecksError(Exception):
    """An exercise's checks file cannot be imported: the author's problem, not the learner's."""


class Grader:
    """Grades submissions of a course's exercises in one shared sandbox.

    Checks are imported once per exercise; the sandbox's zygote starts once. Both
    are reused for every submission, which is what makes a batch fast.
    """

    def __init__(self, course: Course, sandbox: Sandbox) -> None:
        self.course = course
        self.sandbox = sandbox
        self._checks: dict[str, list[Check]] = {}

    def checks(self, exercise: Exercise) -> list[Check]:
        """The exercise's checks, imported once; ChecksError if the author's file is broken."""
        if exercise.id not in self._checks:
            path = self.course.checks_path(exercise)
            try:
                self._checks[exercise.id] = load_checks(path)
            except Exception as exc:  # anything the author's module raises at import
                raise ChecksError(f"cannot load the checks of {exercise.id} ({path}): "
                                  f"{type(exc).__name__}: {exc}") from exc
        return self._checks[exercise.id]

    def max_score(self, exercise: Exercise) -> float:
        return sum(c.points for c in self.checks(exercise))

    def failed(self, exercise: Exercise, error: str, started: float,
               output: str = "", notes: dict[str, str] | None = None) -> ExerciseResult:
        """A result with `error` set: score 0, every check failed (SPEC: error means 0)."""
        notes = notes or {}
        checks = [_check_result(c, notes.get(c.id, "not run"))
                  for c in self.checks(exercise)]
        return ExerciseResult(exercise=exercise.id, score=0.0, max_score=self.max_score(exercise),
                              error=error, checks=checks, output=output,
                              seconds=round(time.monotonic() - started, 4))

    def grade(self, exercise: Exercise, path: Path) -> ExerciseResult:
        """Grade the file at `path` (`.py` or `.ipynb`)."""
        started = time.monotonic()
        limits = self.course.limits_for(exercise)
        try:
            source = read_source(path, limits.max_source_kb)
        except SubmissionError as exc:
            return self.failed(exercise, str(exc), started)
        result = self.grade_source(exercise, source, path.name, started)
        if isinstance(source, NotebookSource):  # messages name cells, not joined lines
            result = source.relocate(result)
        return result

    def preflight(self, exercise: Exercise, path: Path) -> ExerciseResult | None:
        """The result of a file that can never reach a box (unreadable, not text, blanks
        left), found without starting a sandbox; None when it needs grading."""
        started = time.monotonic()
        try:
            source = read_source(path, self.course.limits_for(exercise).max_source_kb)
        except SubmissionError as exc:
            return self.failed(exercise, str(exc), started)
        result = self._refused(exercise, source, started)
        if result is not None and isinstance(source, NotebookSource):
            result = source.relocate(result)
        return result

    def _refused(self, exercise: Exercise, source: str, started: float
                 ) -> ExerciseResult | None:
        """The result for source that is not fit to run (bad text, blanks), else None."""
        try:
            check_text(source)
        except SubmissionError as exc:
            return self.failed(exercise, str(exc), started)
        if blanks := find_blanks(source):
            return self.failed(exercise, describe_blanks(blanks) +
                               ": replace each ___ with your answer", started)
        return None

    def grade_source(self, exercise: Exercise, source: str, filename: str,
                     started: float | None = None) -> ExerciseResult:
        started = time.monotonic() if started is None else started
        limits = self.course.limits_for(exercise)
        if (refused := self._refused(exercise, source, started)) is not None:
            return refused
        try:
            box = self.sandbox.box(limits.box_settings(), limits.time_limit)
        except SandboxError as exc:
            return self.failed(exercise, f"{GRADER_FAULT[0]} ({exc}); "
                               "please tell your teaching assistant", started)
        with box:
            try:
                loaded = box.request("load", source=source, filename=filename)
            except (BoxStopped, SandboxError) as stop:
                return self.failed(exercise, describe_stop(stop, limits.time_limit), started,
                                   "".join(box.output))
            if "error" in loaded:
                return self.failed(exercise, f"your file {explain(loaded['error'], source)}",
                                   started, "".join(box.output))
            submission = Submission(box, filename, printed=str(loaded.get("stdout", "")),
                                    source=source)
            return self._run_checks(exercise, submission, box.output, started,
                                    limits.time_limit)

    def _run_checks(self, exercise: Exercise, submission: Submission, output: list[str],
                    started: float, time_limit: float) -> ExerciseResult:
        """Run every check; a check only scores by returning normally.

        Failed, errored, skipped (pytest.skip), exited (SystemExit) or never reached:
        every one of those is a failed check, and every declared check gets a result.
        """
        checks = self.checks(exercise)
        results: list[CheckResult] = []
        for check in checks:
            try:
                note = check.function(submission)
                results.append(_check_result(check, None, note if isinstance(note, str) else ""))
            except CheckFailed as exc:
                results.append(_check_result(check, exc))
            except (BoxStopped, SandboxError) as stop:
                error = describe_stop(stop, time_limit) + f" (during \u201c{check.name}\u201d)"
                notes = {c.id: f"not counted: {r.message}"
                         for c, r in zip(checks, results, strict=False)}
                return self.failed(exercise, error, started, "".join(output), notes)
            except KeyboardInterrupt:
                raise  # the person running the grader pressed Ctrl-C
            except BaseException as exc:  # pytest.skip/fail, SystemExit, a buggy check
                results.append(_check_result(check, _unexpected(exc)))
        if len(results) != len(checks):  # cannot happen; a verdict must never be missing
            raise RuntimeError(f"{len(checks)} checks gave {len(results)} results")
        return ExerciseResult(
            exercise=exercise.id, score=sum(r.score for r in results if r.passed),
            max_score=self.max_score(exercise), error=None, checks=results,
            output="".join(output), seconds=round(time.monotonic() - started, 4))


def _unexpected(exc: BaseException) -> str:
    """A check that ended without a verdict: it counts as failed, and says why."""
    kind = type(exc).__name__
    if kind == "Skipped":
        return f"not checked (skipped: {exc}), so it counts as failed"
    return f"could not check your answer ({kind}: {exc}), so it counts as failed"
