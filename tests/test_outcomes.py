"""Outcomes are types: every way a submission or a check can end has its kind and status."""

from __future__ import annotations

import pytest

from grader.results import CheckResult, CheckStatus, ErrorKind, ExerciseResult


@pytest.mark.parametrize(("source", "kind", "line"), [
    ("weather = ___\n", ErrorKind.BLANKS, 1),
    ("weather = {\n", ErrorKind.SYNTAX, 1),
    ("x = 1\nweather = 1 / 0\n", ErrorKind.RAISED, 2),
    ("import sys\nsys.exit(3)\n", ErrorKind.EXITED, 2),
    ("import os\nos._exit(0)\n", ErrorKind.EXITED, None),
    ("x = [0] * 10**10\n", ErrorKind.MEMORY, 1),
    ("def f():\n    return f()\nf()\n", ErrorKind.RECURSION, 2),
    ("import os\nos.fork()\n", ErrorKind.FORBIDDEN, 2),
    ("   \n\n", ErrorKind.EMPTY, None),
    ("x = 1\n\0\n", ErrorKind.BINARY, 2),
], ids=["blanks", "syntax", "raised", "sys-exit", "os-exit", "memory", "recursion", "fork",
        "empty", "nul"])
def test_a_submission_that_cannot_be_graded_says_why_as_a_kind_and_a_line(
        grade_text, source: str, kind: ErrorKind, line: int | None) -> None:
    result = grade_text("exercise-1", source)
    assert (result.error_kind, result.error_line) == (kind, line), result.error
    assert result.error and result.score == 0
    assert {c.status for c in result.checks} == {CheckStatus.NOT_RUN}


def test_a_missing_file_is_of_kind_missing_and_not_submitted(grader, course, tmp_path) -> None:
    result = grader.grade(course.exercises[0], tmp_path / "nothing.py")
    assert result.error_kind is ErrorKind.MISSING and not result.submitted
    assert not result.grader_fault


def test_each_check_status_names_how_it_ended(grade_text, mutant) -> None:
    # weather's weights sum to 1.1: the weight checks fail, the others pass.
    result = grade_text("exercise-1", mutant("exercise-1", '"cloudy": 0.3', '"cloudy": 0.4'))
    assert result.error_kind is None
    assert [c.status for c in result.checks] == [
        CheckStatus.PASSED if c.passed else CheckStatus.FAILED for c in result.checks]
    assert CheckStatus.FAILED in {c.status for c in result.checks}


def test_a_skipped_check_is_recognised_by_type_and_a_crashing_one_as_errored() -> None:
    from grader.runner.outcomes import unexpected

    assert unexpected(pytest.skip.Exception("not today"))[1] is CheckStatus.SKIPPED
    assert unexpected(pytest.fail.Exception("no"))[1] is CheckStatus.FAILED

    class Skipped(Exception):  # named like pytest's, but not pytest's: not a skip
        pass

    assert unexpected(Skipped("x"))[1] is CheckStatus.ERRORED
    assert unexpected(KeyError("x"))[1] is CheckStatus.ERRORED


def test_a_result_of_contract_1_reads_with_a_status_for_each_check() -> None:
    old = {"name": "n", "passed": False, "score": 0, "max_score": 1, "message": "m"}
    assert CheckResult.model_validate(old).status is CheckStatus.FAILED
    assert CheckResult.model_validate({**old, "passed": True}).status is CheckStatus.PASSED
    result = ExerciseResult.model_validate({"exercise": "e", "score": 0, "max_score": 1,
                                            "error": None, "checks": [old]})
    assert result.error_kind is None and result.checks[0].status is CheckStatus.FAILED
