"""`modelled` builds the contract's models from a `Graded` without validating them again:
each result must be the validated model's, field for field and dump for dump."""

from __future__ import annotations

import pickle
import random
from typing import Any

import pytest

from grader import learner_text as lt
from grader.checks.api import Case, CasesPassed
from grader.course.model import Withheld
from grader.kinds import CheckStatus, ErrorKind
from grader.results import CaseResult, CheckResult, ExerciseResult, WrongAnswer
from grader.runner.verdicts import CaseVerdict, Graded, Verdict, Wrong, modelled


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


HOSTILE = "\x1b[2J\x1b]0;owned\x07" + "é\u202e" * 50 + "x" * (lt.OUTPUT_CHARS + 10)


def validated(graded: Graded) -> ExerciseResult:
    """The result as every result was made before: each model validated from the fields."""
    given: dict[str, Any] = graded.given()
    checks = []
    for verdict in graded.checks:
        fields: dict[str, Any] = verdict.given()
        fields["wrong"] = None if verdict.wrong is None else WrongAnswer(
            **verdict.wrong.given())
        fields["cases"] = (None if verdict.cases is None
                           else [CaseResult(**c.given()) for c in verdict.cases])
        checks.append(CheckResult(**fields))
    given["checks"] = checks
    hidden = graded.withheld
    given["withheld"] = None if hidden is None else Withheld(checks=hidden.checks,
                                                              points=hidden.points)
    if graded.error is None:
        for name in ("error_kind", "error_line", "error_cell"):
            del given[name]
    return ExerciseResult(**given)


def verdict(name: str, score: float, **more: Any) -> Verdict:
    passed = score > 0
    return Verdict(name=name, passed=passed, score=score, max_score=2,
                   message="ok" if passed else HOSTILE[:3000],
                   status=CheckStatus.PASSED if passed else CheckStatus.FAILED, **more)


RESULTS = {
    "whole numbers for scores and shares": Graded(
        exercise="exercise-1", score=3, max_score=4, error=None, seconds=1,
        checks=[verdict("sums to one", 2, hint=None, hints=["a", "b"]),
                verdict("frequencies", 0, hint="look at " + HOSTILE, detail=HOSTILE,
                        wrong=Wrong(observed=HOSTILE, outcome="rainy" + HOSTILE,
                                    expected_share=1, observed_share=0.25)),
                verdict("only keys", 1, visibility="hidden", wrong=Wrong(observed="3")),
                verdict("cases", 1, cases=[CaseVerdict(name="n=0" + HOSTILE, passed=True,
                                                       message="fine"),
                                           CaseVerdict(name="n=1", passed=False,
                                                       message=HOSTILE)])],
        output=HOSTILE, withheld=Withheld(checks=2, points=3)),
    "an error with its kind, line and cell": Graded(
        exercise="exercise-2", score=0.0, max_score=3.0, error="SyntaxError " + HOSTILE,
        checks=[Verdict(name="sums to one", passed=False, score=0, max_score=3,
                        message="not run", status=CheckStatus.NOT_RUN)],
        output="", seconds=0.25, error_kind=ErrorKind.SYNTAX, error_line=3, error_cell=2),
    "a graded file with no check": Graded(exercise="exercise-3", score=0, max_score=0,
                                          error=None, checks=[]),
}


@pytest.mark.parametrize("name", RESULTS)
def test_a_result_built_without_validation_is_the_validated_one(name: str) -> None:
    graded = RESULTS[name]
    built, expected = modelled(graded), validated(graded)
    assert built == expected, fail(built, expected, "modelled must make what validation makes")
    for dump in ({}, {"exclude_unset": True}, {"mode": "json"}):
        assert built.model_dump(**dump) == expected.model_dump(**dump), fail(
            built.model_dump(**dump), expected.model_dump(**dump), f"the dump with {dump}")
    assert built.model_dump_json() == expected.model_dump_json(), fail(
        built.model_dump_json(), expected.model_dump_json(), "the journal's and --json's text")
    assert built.model_fields_set == expected.model_fields_set, fail(
        built.model_fields_set, expected.model_fields_set, "exclude_unset dumps read these")


def test_the_numbers_of_a_built_result_are_floats_as_validation_makes_them() -> None:
    built = modelled(RESULTS["whole numbers for scores and shares"])
    numbers = [built.score, built.max_score, built.seconds, *(c.score for c in built.checks),
               built.checks[1].wrong.expected_share if built.checks[1].wrong else None]
    assert all(type(n) is float for n in numbers), fail(
        [type(n).__name__ for n in numbers], "all float", "a whole number dumps as 3, not 3.0")


def test_bounding_learner_text_twice_changes_nothing() -> None:
    """A result is bounded when made, again when modelled, again when read back from a
    journal: each time the same text (escapes were once cut again, and the marker then
    counted their own characters as lost text)."""
    rng = random.Random(7)
    pieces = ["x", "é", "\u202e", "\x1b", "\\", "\\x1b", "\\u202e", "\ud800", "\n",
              lt.MARKER.format("5")]
    changed = []
    for _ in range(1500):
        text = "".join(rng.choice(pieces) for _ in range(rng.choice([5, 50, 300, 2100])))
        for limit in (10, 200, lt.ERROR_CHARS):
            once = lt.bounded(text, limit)
            if lt.bounded(once, limit) != once:
                changed.append((text[:40], limit))
    assert not changed, fail(changed[:3], [], "bounded(bounded(t)) == bounded(t)")


def test_a_text_made_to_look_bounded_is_still_inert_and_capped() -> None:
    limit = 100
    for text in ["\\u0041" * limit + lt.MARKER.format("5"), "\\x41" * (limit + 1),
                 "\x1b" * (10 * limit), "y" * (10**6)]:
        kept = lt.bounded(text, limit)
        assert lt.inert(kept) == kept and len(kept) <= 6 * limit + len(lt.MARKER) + 24, fail(
            (len(kept), kept[-40:]), f"inert, at most {6 * limit} characters and a marker",
            "whatever a learner prints, a kept text is bounded")


def test_a_check_s_str_subclass_is_kept_as_a_plain_str_and_crosses_to_the_batch() -> None:
    """A check with cases passes a `CasesPassed` (a str carrying its `Case`s): bounded,
    it is a plain str, so a worker's answer pickles and unpickles (a `Case` does not)."""
    note = CasesPassed("passed")
    note.cases = [Case("n=0", True, "passed")]
    verdict = Verdict(name="cases", passed=True, score=1, max_score=1, message=note,
                      status=CheckStatus.PASSED)
    assert type(verdict.message) is str, fail(type(verdict.message), str, "bounded to a str")
    again = pickle.loads(pickle.dumps(verdict))
    assert again == verdict, fail(again, verdict, "as a batch's worker sends it")
