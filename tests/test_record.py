"""The runner's plain records keep what their dataclasses gave: frozen, equal by fields,
bounded again when replaced, and the same after pickling (a batch's workers send them)."""

from __future__ import annotations

import copy
import pickle

import pytest

from grader import learner_text as lt
from grader.kinds import CheckStatus, ErrorKind
from grader.runner.pipeline import Failure
from grader.runner.verdicts import Graded, Verdict, Wrong


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def verdict(**changes: object) -> Verdict:
    given: dict[str, object] = {"name": "sums", "passed": False, "score": 0.0,
                                "max_score": 2.0, "message": "wrong", "status":
                                CheckStatus.FAILED, "wrong": Wrong("3", "a", 0.5, 0.25)}
    return Verdict(**{**given, **changes})  # type: ignore[arg-type]


def test_a_record_equals_its_pickled_and_copied_self_and_not_another() -> None:
    graded = Graded("exercise-1", 0.0, 2.0, None, [verdict()], output="out")
    for again in (pickle.loads(pickle.dumps(graded)), copy.deepcopy(graded)):
        assert again == graded and again is not graded, fail(again, graded, "same fields")
    assert graded != graded.replace(output="other"), "a changed field makes another record"
    assert Wrong("3") != ("3", None, None, None), "a record is not a tuple of its fields"


def test_a_records_fields_cannot_be_assigned() -> None:
    failure = Failure("broken", ErrorKind.SYNTAX)
    with pytest.raises(AttributeError):
        failure.error = "fixed"
    assert failure.notes == {} and Failure("x", failure.kind).notes is not failure.notes


def test_learner_text_is_bounded_when_made_and_when_replaced() -> None:
    long = "m" * (lt.ERROR_CHARS * 3)
    made = verdict(message=long)
    replaced = verdict().replace(message=long)
    for one in (made, replaced):
        assert len(one.message) < len(long), fail(len(one.message), f"< {len(long)}",
                                                  "learner text is capped as the models cap it")
    assert made == replaced
