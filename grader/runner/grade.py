"""Grade one submission: blanks first, then load it in a box, then run every check."""

from __future__ import annotations

import time
from pathlib import Path

from grader.checks import Check, CheckFailed, Submission, load_checks
from grader.checks.errors import explain
from grader.course import Course, Exercise
from grader.notebooks.source import NotebookSource
from grader.results import CheckResult, CheckStatus, ErrorKind, ExerciseResult, WrongAnswer
from grader.runner.outcomes import describe_stop, load_error_kind, unexpected
from grader.runner.source import (
    SubmissionError,
    check_text,
    describe_blanks,
    find_blanks,
    read_source,
)
from grader.sandbox.client import BoxStopped, Sandbox, SandboxError


def _check_result(check: Check, status: CheckStatus, message: str = "",
                  failed: CheckFailed | None = None) -> CheckResult:
    passed = status is CheckStatus.PASSED
    return CheckResult(name=check.name, passed=passed, score=check.points if passed else 0.0,
                       max_score=check.points,
                       message=failed.message if failed else message or "passed",
                       hint=failed.hint if failed else None,
                       hints=failed.hints if failed else [],
                       detail=failed.detail if failed else None, status=status,
                       visibility=check.visibility,
                       wrong=_wrong_answer(failed) if failed else None)


def _wrong_answer(failed: CheckFailed) -> WrongAnswer:
    drift = failed.drift
    return WrongAnswer(observed=failed.observed, outcome=drift.outcome if drift else None,
                       expected_share=drift.expected if drift else None,
                       observed_share=drift.observed if drift else None)


class ChecksError(Exception):
    """An exercise's checks file cannot be imported: the author's problem, not the learner's."""


class Grader:
    """Grades submissions of a course's exercises in one shared sandbox.

    Checks are imported once per exercise; the sandbox's zygote starts once. Both
    are reused for every submission, which is what makes a batch fast.
    """

    def __init__(self, course: Course, sandbox: Sandbox, only: str | None = None) -> None:
        self.course = course
        self.sandbox = sandbox
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

    def failed(self, exercise: Exercise, error: str, kind: ErrorKind, started: float,
               output: str = "", notes: dict[str, str] | None = None,
               line: int | None = None) -> ExerciseResult:
        """A result with `error` set: score 0, no check run (SPEC: error means 0)."""
        notes = notes or {}
        checks = [_check_result(c, CheckStatus.NOT_RUN, notes.get(c.id, "not run"))
                  for c in self.checks(exercise)]
        return ExerciseResult(exercise=exercise.id, score=0.0, max_score=self.max_score(exercise),
                              error=error, checks=checks, output=output,
                              seconds=round(time.monotonic() - started, 4),
                              error_kind=kind, error_line=line,
                              withheld=exercise.withheld)

    def grade(self, exercise: Exercise, path: Path) -> ExerciseResult:
        """Grade the file at `path` (`.py` or `.ipynb`)."""
        started = time.monotonic()
        limits = self.course.limits_for(exercise)
        try:
            source = read_source(path, limits.max_source_kb)
        except SubmissionError as exc:
            return self.failed(exercise, str(exc), exc.kind, started, line=exc.line)
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
            return self.failed(exercise, str(exc), exc.kind, started, line=exc.line)
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
            return self.failed(exercise, str(exc), exc.kind, started, line=exc.line)
        if blanks := find_blanks(source):
            return self.failed(exercise, describe_blanks(blanks) +
                               ": replace each ___ with your answer", ErrorKind.BLANKS,
                               started, line=blanks[0])
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
            return self.failed(exercise, f"the grader's sandbox failed ({exc}); "
                               "please tell your teaching assistant", ErrorKind.GRADER_FAULT,
                               started)
        with box:
            try:
                loaded = box.request("load", source=source, filename=filename)
            except (BoxStopped, SandboxError) as stop:
                error, kind = describe_stop(stop, limits.time_limit)
                line = stop.line if isinstance(stop, BoxStopped) else None
                return self.failed(exercise, error, kind, started, "".join(box.output),
                                   line=line)
            if "error" in loaded:
                line = loaded["error"].get("line")
                return self.failed(exercise, f"your file {explain(loaded['error'], source)}",
                                   load_error_kind(loaded["error"]), started,
                                   "".join(box.output),
                                   line=line if isinstance(line, int) else None)
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
                results.append(_check_result(check, CheckStatus.PASSED,
                                             note if isinstance(note, str) else ""))
            except CheckFailed as exc:
                results.append(_check_result(check, CheckStatus.FAILED, failed=exc))
            except (BoxStopped, SandboxError) as stop:
                error, kind = describe_stop(stop, time_limit)
                notes = {c.id: f"not counted: {r.message}"
                         for c, r in zip(checks, results, strict=False)}
                line = stop.line if isinstance(stop, BoxStopped) else None
                return self.failed(exercise, f"{error} (during \u201c{check.name}\u201d)", kind,
                                   started, "".join(output), notes, line=line)
            except KeyboardInterrupt:
                raise  # the person running the grader pressed Ctrl-C
            except BaseException as exc:  # pytest.skip/fail, SystemExit, a buggy check
                message, status = unexpected(exc)
                results.append(_check_result(check, status, message))
        if len(results) != len(checks):  # cannot happen; a verdict must never be missing
            raise RuntimeError(f"{len(checks)} checks gave {len(results)} results")
        return ExerciseResult(
            exercise=exercise.id, score=sum(r.score for r in results if r.passed),
            max_score=self.max_score(exercise), error=None, checks=results,
            output="".join(output), seconds=round(time.monotonic() - started, 4),
            withheld=exercise.withheld)

