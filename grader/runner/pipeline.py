"""One submission, step by step: preflight, load it through a channel, run each check.

Every way of grading calls these (grade exercise-N, batch workers, the nbgrader
kernel, the pytest plugin, grade check, bench/): none re-implements a step. Each
step either moves on or returns a `Failure`, whose sentence was made with the
source's own locations and whose kind says what happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.checks import Check, CheckFailed, Submission
from grader.checks.errors import explain
from grader.kinds import CheckStatus, ErrorKind
from grader.runner.outcomes import describe_stop, load_error_kind, unexpected
from grader.runner.record import Record
from grader.runner.source import Source, SubmissionError, require_gradable
from grader.runner.verdicts import CaseVerdict, Verdict, Wrong, modelled_check
from grader.sandbox.client import BoxStopped, SandboxError, StopReason

if TYPE_CHECKING:
    from grader.results import CheckResult
    from grader.sandbox.channel import Channel


class Failure(Record):
    """Why a submission cannot be graded: the learner's sentence, its kind, where."""

    __slots__ = ("cell", "error", "kind", "line", "notes")
    error: str
    kind: ErrorKind
    line: int | None  # of the file, or of `cell` in a notebook
    cell: int | None
    notes: dict[str, str]  # check id -> its message

    def __init__(self, error: str, kind: ErrorKind, line: int | None = None,
                 cell: int | None = None, notes: dict[str, str] | None = None) -> None:
        self._set(error=error, kind=kind, line=line, cell=cell,
                  notes={} if notes is None else notes)

    @classmethod
    def of(cls, source: Source | None, error: str, kind: ErrorKind, line: int | None = None,
           notes: dict[str, str] | None = None) -> Failure:
        """A failure of `source`: located in its cells, with a notebook's skipped lines."""
        cell = None
        if source is not None:
            error += source.skipped_note()
            if line is not None:
                cell, line = source.locate(line)
        return cls(error, kind, line, cell, notes or {})

    @classmethod
    def refused(cls, exc: SubmissionError, source: Source | None = None) -> Failure:
        return cls.of(source, str(exc), exc.kind, exc.line)

    @classmethod
    def fault(cls, exc: Exception) -> Failure:
        """A bug of the grader's own while it graded a file: that file's result (a
        grader fault, graded again later), not the batch's end."""
        return cls(f"the grader failed on this file ({type(exc).__name__}: {exc}); "
                   "please tell your teaching assistant", ErrorKind.GRADER_FAULT)


def preflight(source: Source) -> Failure | None:
    """None if the source may go into a box, else why not."""
    try:
        require_gradable(source)
    except SubmissionError as exc:
        return Failure.refused(exc, source)
    return None


def stopped(stop: BoxStopped | SandboxError, source: Source,
            during: Check | None = None, notes: dict[str, str] | None = None) -> Failure:
    """The failure of a box that stopped answering (while loading, or `during` a check)."""
    error, kind = describe_stop(stop, source.where)
    if during is not None:
        error += f" (during \u201c{during.name}\u201d)"
    line = stop.line if isinstance(stop, BoxStopped) else None
    return Failure.of(source, error, kind, line, notes)


def load(source: Source, channel: Channel) -> Submission | Failure:
    """Run the source in the channel's host: the `Submission` checks see, or why not."""
    try:
        loaded = channel.request("load", source=source.text, filename=source.filename)
    except (BoxStopped, SandboxError) as stop:
        return stopped(stop, source)
    error = loaded.get("error")
    if error is not None:
        line = error.get("line")
        return Failure.of(source, f"your {source.noun} {explain(error, source.text, source.where)}",
                          load_error_kind(error), line if isinstance(line, int) else None)
    return Submission(channel, source.filename, printed=str(loaded.get("stdout", "")),
                      source=source.text, where=source.where)


def verdict(check: Check, status: CheckStatus, message: str = "",
            failed: CheckFailed | None = None) -> Verdict:
    """A check's result; only `passed` scores in full (a check with cases: per case)."""
    passed = status is CheckStatus.PASSED
    cases = getattr(failed or message, "cases", None)
    credit = 1.0 if passed else failed.credit if failed else 0.0
    return Verdict(name=check.name, passed=passed, score=check.points * credit,
                   cases=[CaseVerdict(**vars(c)) for c in cases] if cases else None,
                   max_score=check.points,
                   message=failed.message if failed else message or "passed",
                   hint=failed.hint if failed else None,
                   hints=failed.hints if failed else [],
                   detail=failed.detail if failed else None, status=status,
                   visibility=check.visibility,
                   wrong=_wrong_answer(failed) if failed else None)


def _wrong_answer(failed: CheckFailed) -> Wrong:
    """What a failed check saw, as data (a class report groups wrong answers by it)."""
    drift = failed.drift
    return Wrong(observed=failed.observed, outcome=drift.outcome if drift else None,
                 expected_share=drift.expected if drift else None,
                 observed_share=drift.observed if drift else None)


def judge(check: Check, submission: Submission) -> CheckResult:
    """`judge_plain`'s verdict as the contract's model (the nbgrader kernel's check)."""
    return modelled_check(judge_plain(check, submission))


def judge_plain(check: Check, submission: Submission) -> Verdict:
    """One check's verdict: it scores only by returning normally.

    Failed, errored, skipped (pytest.skip) or exited (SystemExit): each is a failed
    check. A box that stops (BoxStopped, SandboxError) and Ctrl-C go to the caller.
    """
    try:
        note = check.function(submission)
    except CheckFailed as exc:
        return verdict(check, CheckStatus.FAILED, failed=exc)
    except (BoxStopped, SandboxError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # pytest.skip/fail, SystemExit, a buggy check
        message, status = unexpected(exc)
        return verdict(check, status, message)
    return verdict(check, CheckStatus.PASSED, note if isinstance(note, str) else "")


class Halted(Record):
    """The checks a box answered before it stopped, the check it stopped in, and why."""

    __slots__ = ("during", "results", "stop")
    results: list[Verdict]
    during: Check
    stop: BoxStopped | SandboxError

    def __init__(self, results: list[Verdict], during: Check,
                 stop: BoxStopped | SandboxError) -> None:
        self._set(results=results, during=during, stop=stop)


def run_until_stop(checks: list[Check], submission: Submission
                   ) -> list[Verdict] | Halted:
    """Every check's result, in order; or, when the box stops, what came before."""
    results: list[Verdict] = []
    for one in checks:
        try:
            results.append(judge_plain(one, submission))
        except (BoxStopped, SandboxError) as stop:
            return Halted(results, one, stop)
    return results


def run_checks(checks: list[Check], submission: Submission,
               source: Source) -> list[CheckResult] | Failure:
    """Every check's result, in order; a Failure if the box stopped part way."""
    ran = run_until_stop(checks, submission)
    if isinstance(ran, Halted):
        notes = {c.id: f"not counted: {r.message}" for c, r in zip(checks, ran.results,
                                                                  strict=False)}
        return stopped(ran.stop, source, ran.during, notes)
    if len(ran) != len(checks):  # cannot happen; a verdict must never be missing
        raise RuntimeError(f"{len(checks)} checks gave {len(ran)} results")
    return [modelled_check(r) for r in ran]


def restartable(stop: BoxStopped | SandboxError) -> bool:
    """Whether the checks left may run in a fresh box: a hang costs only the check it
    happened in. Anything else a box stops for (an exit, a crash, memory, the disk,
    interference, a sandbox failure) voids the whole file, as before: those are the
    learner code's own doing, and retrying them would only multiply the boxes."""
    return isinstance(stop, BoxStopped) and stop.reason is StopReason.TIMEOUT
