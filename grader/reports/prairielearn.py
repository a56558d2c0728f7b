"""PrairieLearn's external-grader `results.json` (PL's docs/externalGrading.md).

`score` is in [0, 1]; `gradable: false` marks a submission that could not be graded as
an answer (unfilled blanks, a syntax error, no file), which costs the student no
attempt; `format_errors` then says why. One test per check, with its points.

PrairieLearn shows every test to the learner at once (it has no per-test visibility),
so a hidden check's test carries its name and points only: its message, hint and
detail (which may quote the hidden cases) are withheld.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from grader.models import Model
from grader.results import ExerciseResult

MAX_OUTPUT = 100_000  # results.json must stay under 1 MB
WITHHELD = "a hidden check: what it tested and saw is not shown"


class PrairieLearnTest(Model):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    points: float
    max_points: float
    message: str
    output: str = ""


class PrairieLearnResults(Model):
    model_config = ConfigDict(extra="forbid")

    gradable: bool
    score: float = Field(0.0, ge=0, le=1)
    message: str = ""
    output: str = ""
    format_errors: list[str] = Field(default_factory=list)
    tests: list[PrairieLearnTest] = Field(default_factory=list)


def _test_message(result: ExerciseResult, index: int) -> str:
    check = result.checks[index]
    if check.visibility == "hidden":
        return WITHHELD
    if check.passed or result.error:
        return check.message if not result.error else "not checked"
    return check.message + (f" (hint: {check.hint})" if check.hint else "")


def prairielearn_results(result: ExerciseResult, notes: list[str]) -> PrairieLearnResults:
    """A graded submission: its score as a fraction, one test per check."""
    tests = [PrairieLearnTest(name=c.name, points=c.score, max_points=c.max_score,
                              message=_test_message(result, i),
                              output=c.detail if c.detail and not c.passed
                              and c.visibility != "hidden" else "")
             for i, c in enumerate(result.checks)]
    score = result.score / result.max_score if result.max_score else 0.0
    message = result.error or f"{result.score:g}/{result.max_score:g} points"
    return PrairieLearnResults(gradable=True, score=min(1.0, max(0.0, score)),
                               message="\n".join([message, *notes]),
                               output=result.output[:MAX_OUTPUT], tests=tests)


def not_gradable(reason: str, notes: list[str]) -> PrairieLearnResults:
    """A submission that is not an answer yet: no score, no attempt lost."""
    return PrairieLearnResults(gradable=False, message="\n".join([reason, *notes]),
                               format_errors=[reason])
