"""Results as the runner makes them: plain dataclasses, the pydantic models only at the edge.

Grading one file makes a `Graded` of `Verdict`s; `modelled` turns it into the
`ExerciseResult` of the `--json` contract (grader/results.py) where a result leaves the
process or is kept (a batch's journal, `--json`, the progress file). A learner's
`grade exercise-N` renders a `Graded` as it is (it fits the report's `ResultView`), so
its common path never imports pydantic. Learner text is bounded here exactly as the
models bound it (learner_text.py: bounding twice changes nothing), so a `Graded` is as
safe to show as the model made from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Literal

from grader import learner_text as lt
from grader.kinds import CheckStatus, ErrorKind, Hidden, Outcome

if TYPE_CHECKING:
    from grader.results import CheckResult, ExerciseResult


def _bound(instance: object, limits: dict[str, int]) -> None:
    """Cap and neutralise the learner text fields of a frozen `instance`, in place."""
    for name, limit in limits.items():
        value = getattr(instance, name)
        if isinstance(value, str):
            object.__setattr__(instance, name, lt.bounded(value, limit))


@dataclass(frozen=True)
class CaseVerdict:
    """One case of a check with cases (results.CaseResult)."""

    name: str
    passed: bool
    message: str

    def __post_init__(self) -> None:
        _bound(self, {"name": lt.NAME_CHARS, "message": lt.ERROR_CHARS})


@dataclass(frozen=True)
class Wrong:
    """What a check saw when it failed an answer (results.WrongAnswer)."""

    observed: str
    outcome: str | None = None
    expected_share: float | None = None
    observed_share: float | None = None

    def __post_init__(self) -> None:
        _bound(self, {"observed": lt.ERROR_CHARS, "outcome": lt.NAME_CHARS})


@dataclass(frozen=True)
class Verdict:
    """One check's verdict (results.CheckResult); it fits the report's `CheckView`."""

    name: str
    passed: bool
    score: float
    max_score: float
    message: str
    status: CheckStatus
    hint: str | None = None
    hints: list[str] = field(default_factory=list)
    detail: str | None = None
    visibility: Literal["public", "hidden"] = "public"
    wrong: Wrong | None = None
    cases: list[CaseVerdict] | None = None

    def __post_init__(self) -> None:
        _bound(self, {"name": lt.NAME_CHARS, "message": lt.ERROR_CHARS,
                      "hint": lt.HINT_CHARS, "detail": lt.DETAIL_CHARS})


@dataclass(frozen=True)
class Graded(Outcome):
    """One submission of one exercise (results.ExerciseResult); it fits `ResultView`."""

    exercise: str
    score: float
    max_score: float
    error: str | None
    checks: list[Verdict]
    output: str = ""
    seconds: float = 0.0
    error_kind: ErrorKind | None = None
    error_line: int | None = None
    error_cell: int | None = None
    withheld: Hidden | None = None

    def __post_init__(self) -> None:
        _bound(self, {"error": lt.ERROR_CHARS, "output": lt.OUTPUT_CHARS})

    def with_hints(self, hints: dict[str, str | None]) -> Graded:
        """This result with the hints of the checks named in `hints` replaced."""
        return replace(self, checks=[replace(c, hint=hints[c.name]) if c.name in hints else c
                                     for c in self.checks])


def _given(instance: object) -> dict[str, object]:
    """The fields of a dataclass as keyword arguments: what the models were built from."""
    return {f.name: getattr(instance, f.name) for f in fields(instance)}  # type: ignore[arg-type]


def modelled_check(verdict: Verdict) -> CheckResult:
    """`verdict` as the contract's model (validated, as every result is where it is kept)."""
    from grader.results import CaseResult, CheckResult, WrongAnswer

    given = _given(verdict)
    given["wrong"] = None if verdict.wrong is None else WrongAnswer(**_given(verdict.wrong))
    given["cases"] = (None if verdict.cases is None
                      else [CaseResult(**_given(c)) for c in verdict.cases])
    return CheckResult(**given)


def modelled(graded: Graded) -> ExerciseResult:
    """`graded` as the `--json` contract's `ExerciseResult`."""
    from grader.course.model import Withheld
    from grader.results import ExerciseResult

    given = _given(graded)
    given["checks"] = [modelled_check(c) for c in graded.checks]
    hidden = graded.withheld
    given["withheld"] = None if hidden is None else Withheld(checks=hidden.checks,
                                                              points=hidden.points)
    if graded.error is None:  # as the models were built: a graded file sets no error fields
        for name in ("error_kind", "error_line", "error_cell"):
            del given[name]
    return ExerciseResult(**given)
