"""Results as the runner makes them: plain records, the pydantic models only at the edge.

Grading one file makes a `Graded` of `Verdict`s; `modelled` turns it into the
`ExerciseResult` of the `--json` contract (grader/results.py) where a result leaves the
process or is kept (a batch's journal, `--json`, the progress file). A learner's
`grade exercise-N` renders a `Graded` as it is (it fits the report's `ResultView`), so
its common path never imports pydantic. Learner text is bounded here exactly as the
models bound it (learner_text.py: bounding twice changes nothing), so a `Graded` is as
safe to show as the model made from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from grader import learner_text as lt
from grader.kinds import CheckStatus, ErrorKind, Hidden, Outcome
from grader.runner.record import Record

if TYPE_CHECKING:
    from grader.results import CheckResult, ExerciseResult


def _bound(instance: Record, limits: dict[str, int]) -> None:
    """Cap and neutralise the learner text fields of a frozen `instance`, in place."""
    for name, limit in limits.items():
        value = getattr(instance, name)
        if isinstance(value, str):
            object.__setattr__(instance, name, lt.bounded(value, limit))


class CaseVerdict(Record):
    """One case of a check with cases (results.CaseResult)."""

    __slots__ = ("message", "name", "passed")
    name: str
    passed: bool
    message: str

    def __init__(self, name: str, passed: bool, message: str) -> None:
        self._set(name=name, passed=passed, message=message)
        _bound(self, {"name": lt.NAME_CHARS, "message": lt.ERROR_CHARS})


class Wrong(Record):
    """What a check saw when it failed an answer (results.WrongAnswer)."""

    __slots__ = ("expected_share", "observed", "observed_share", "outcome")
    observed: str
    outcome: str | None
    expected_share: float | None
    observed_share: float | None

    def __init__(self, observed: str, outcome: str | None = None,
                 expected_share: float | None = None,
                 observed_share: float | None = None) -> None:
        self._set(observed=observed, outcome=outcome, expected_share=expected_share,
                  observed_share=observed_share)
        _bound(self, {"observed": lt.ERROR_CHARS, "outcome": lt.NAME_CHARS})


class Verdict(Record):
    """One check's verdict (results.CheckResult); it fits the report's `CheckView`."""

    __slots__ = (
        "cases",
        "detail",
        "hint",
        "hints",
        "max_score",
        "message",
        "name",
        "passed",
        "score",
        "status",
        "visibility",
        "wrong",
    )
    name: str
    passed: bool
    score: float
    max_score: float
    message: str
    status: CheckStatus
    hint: str | None
    hints: list[str]
    detail: str | None
    visibility: Literal["public", "hidden"]
    wrong: Wrong | None
    cases: list[CaseVerdict] | None

    def __init__(self, name: str, passed: bool, score: float, max_score: float,
                 message: str, status: CheckStatus, hint: str | None = None,
                 hints: list[str] | None = None, detail: str | None = None,
                 visibility: Literal["public", "hidden"] = "public",
                 wrong: Wrong | None = None, cases: list[CaseVerdict] | None = None) -> None:
        self._set(name=name, passed=passed, score=score, max_score=max_score,
                  message=message, status=status, hint=hint,
                  hints=[] if hints is None else hints, detail=detail,
                  visibility=visibility, wrong=wrong, cases=cases)
        _bound(self, {"name": lt.NAME_CHARS, "message": lt.ERROR_CHARS,
                      "hint": lt.HINT_CHARS, "detail": lt.DETAIL_CHARS})


class Graded(Record, Outcome):
    """One submission of one exercise (results.ExerciseResult); it fits `ResultView`."""

    __slots__ = (
        "checks",
        "error",
        "error_cell",
        "error_kind",
        "error_line",
        "exercise",
        "max_score",
        "output",
        "score",
        "seconds",
        "withheld",
    )
    exercise: str
    score: float
    max_score: float
    error: str | None
    checks: list[Verdict]
    output: str
    seconds: float
    error_kind: ErrorKind | None
    error_line: int | None
    error_cell: int | None
    withheld: Hidden | None

    def __init__(self, exercise: str, score: float, max_score: float, error: str | None,
                 checks: list[Verdict], output: str = "", seconds: float = 0.0,
                 error_kind: ErrorKind | None = None, error_line: int | None = None,
                 error_cell: int | None = None, withheld: Hidden | None = None) -> None:
        self._set(exercise=exercise, score=score, max_score=max_score, error=error,
                  checks=checks, output=output, seconds=seconds, error_kind=error_kind,
                  error_line=error_line, error_cell=error_cell, withheld=withheld)
        _bound(self, {"error": lt.ERROR_CHARS, "output": lt.OUTPUT_CHARS})

    def with_hints(self, hints: dict[str, str | None]) -> Graded:
        """This result with the hints of the checks named in `hints` replaced."""
        return self.replace(checks=[c.replace(hint=hints[c.name]) if c.name in hints else c
                                    for c in self.checks])


def modelled_check(verdict: Verdict) -> CheckResult:
    """`verdict` as the contract's model, built as `modelled` builds a result."""
    from grader.results import CaseResult, CheckResult, WrongAnswer

    given: dict[str, Any] = verdict.given()
    given["score"], given["max_score"] = float(verdict.score), float(verdict.max_score)
    wrong = verdict.wrong
    given["wrong"] = None if wrong is None else WrongAnswer.model_construct(
        observed=wrong.observed, outcome=wrong.outcome,
        expected_share=_real(wrong.expected_share),
        observed_share=_real(wrong.observed_share))
    given["cases"] = None if verdict.cases is None else [
        CaseResult.model_construct(name=c.name, passed=c.passed, message=c.message)
        for c in verdict.cases]
    return CheckResult.model_construct(**given)


def modelled(graded: Graded) -> ExerciseResult:
    """`graded` as the `--json` contract's `ExerciseResult`.

    Built, not validated again: this process made `graded`, its fields are of the
    model's types (a number a float, as validation makes it) and its learner text is
    bounded exactly as the model bounds it. Validating it cost a batch ~0.25 ms of its
    main process per file, each text capped a second time (tests/test_verdicts.py
    holds every result the same as the validated model, dump for dump)."""
    from grader.course.model import Withheld
    from grader.results import ExerciseResult

    given: dict[str, Any] = graded.given()
    given["score"], given["max_score"] = float(graded.score), float(graded.max_score)
    given["seconds"] = float(graded.seconds)
    given["checks"] = [modelled_check(c) for c in graded.checks]
    hidden = graded.withheld
    given["withheld"] = None if hidden is None else Withheld.model_construct(
        checks=hidden.checks, points=float(hidden.points))
    if graded.error is None:  # as the models were built: a graded file sets no error fields
        for name in ("error_kind", "error_line", "error_cell"):
            del given[name]
    return ExerciseResult.model_construct(**given)


def _real(number: float | None) -> float | None:
    return None if number is None else float(number)
