"""The author's API beyond pass/fail: errors as fields, `raises`, `approx`, cases with
partial credit, and in-place changes, each graded for real in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.checks import check
from grader.checks.compare import approx
from grader.course import load_course
from grader.results import CheckStatus, ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox

CHECKS = '''\
from grader.checks import check, fail
from grader.checks import approx, leaves_arguments_alone, raises


@check("rejects t <= 0", points=2)
def test_rejects(submission):
    error = raises(ValueError, submission.function("sharpen"), {"a": 1.0}, 0)
    return f"{error.type_name}|{error.module}|{error.error_message}|{error.line}"


@check("sharpens a distribution", points=2)
def test_sharpen(submission):
    got = submission.function("sharpen")({"a": 0.25, "b": 0.75}, 0.5)
    if (why := approx({"a": 0.1, "b": 0.9}).why_not(got)) is not None:
        fail(f"sharpen(...) is off {why}", "{'a': 0.1, 'b': 0.9}", hint="square, then divide")


@check("doubles each case", points=4, cases={"one": 1, "two": 2, "three": 3, "four": 4})
def test_cases(submission, case):
    got = submission.function("double")(case)
    if got != 2 * case:
        fail(f"double({case}) is {got}", f"{2 * case}", hint="multiply by two")


@check("leaves its argument alone", points=1)
def test_alone(submission):
    leaves_arguments_alone(submission.function("sharpen"), {"a": 0.25, "b": 0.75}, 0.5)
'''
RIGHT = '''\
def sharpen(p, t):
    if t <= 0:
        raise ValueError("t must be > 0")
    w = {k: v ** (1 / t) for k, v in p.items()}
    s = sum(w.values())
    return {k: v / s for k, v in w.items()}


def double(x):
    return 2 * x
'''
# Raises the wrong type, squares wrongly in place, and doubles only 1 and 2.
WRONG = '''\
def sharpen(p, t):
    if t <= 0:
        raise TypeError("bad t")
    for k in p:
        p[k] = p[k] ** 3
    return p


def double(x):
    return 2 * x if x < 3 else x
'''


@pytest.fixture
def graded(tmp_path: Path, sandbox: Sandbox):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "api.py").write_text(CHECKS)
    (tmp_path / "course.yaml").write_text(
        "title: API\nexercises:\n  - id: ex-1\n    title: API\n    file: api.py\n"
        "    checks: checks/api.py\n    points: 9\n")
    course = load_course(tmp_path / "course.yaml")
    grader = Grader(course, sandbox)

    def grade(text: str) -> ExerciseResult:
        return grader.grade_source(course.exercises[0], text, "api.py")

    return grade


def test_the_right_answer_gets_every_point_and_every_case(graded) -> None:
    result = graded(RIGHT)
    assert [c.passed for c in result.checks] == [True] * 4, result.checks
    assert result.score == 9
    # The error's type, module, message and line are fields, not parts of a sentence.
    assert result.checks[0].message == "ValueError|builtins|t must be > 0|3"
    cases = result.checks[2].cases
    assert cases is not None and [(c.name, c.passed) for c in cases] == [
        ("one", True), ("two", True), ("three", True), ("four", True)]


def test_a_half_right_answer_scores_half_the_points_with_every_case_reported(graded) -> None:
    result = graded(WRONG)
    rejects, sharpen, cases, alone = result.checks
    assert (rejects.passed, rejects.score) == (False, 0)
    assert rejects.message == ("sharpen({'a': 1.0}, 0) raised TypeError: bad t; expected it "
                               "to raise ValueError.")
    assert sharpen.message.startswith("sharpen(...) is off at ['a']: 0.0") \
        and "not 0.1" in sharpen.message, sharpen.message
    assert (cases.passed, cases.score, cases.max_score) == (False, 2.0, 4.0)
    assert cases.status is CheckStatus.FAILED
    assert cases.message == "2 of 4 cases pass; three: double(3) is 3; expected 6."
    assert [(c.name, c.passed) for c in cases.cases or []] == [
        ("one", True), ("two", True), ("three", False), ("four", False)]
    assert alone.message.startswith("sharpen({'a': 0.25, 'b': 0.75}, 0.5) changed its "
                                    "argument 1 to {'a': 0.015625"), alone.message
    assert result.score == 2.0
    from grader.reports.text import render

    report = " ".join(render(result, "API").split())
    assert "cases passed: one, two; failed: three, four" in report
    # The --json contract gains the cases, and only where a check has them.
    data = json.loads(result.model_dump_json())
    assert [c.get("cases") is not None for c in data["checks"]] == [False, False, True, False]
    assert "cases" not in data["checks"][0]
    assert data["checks"][2]["cases"][2] == {"name": "three", "passed": False,
                                             "message": "double(3) is 3; expected 6."}


def test_raises_fails_a_function_that_returns(graded) -> None:
    result = graded(RIGHT.replace('raise ValueError("t must be > 0")', "return {}"))
    assert result.checks[0].message == ("sharpen({'a': 1.0}, 0) returned {}; expected it to "
                                        "raise ValueError.")
    assert result.checks[0].hint == ("check the input first, and raise ValueError when it "
                                     "is not allowed")


def test_approx_names_the_first_key_that_differs() -> None:
    expected = {"a": 0.1, "b": 0.9}
    assert approx(expected) == {"a": 0.1 + 1e-12, "b": 0.9}
    assert approx(expected).why_not({"a": 0.1, "b": 0.8}) == "at ['b']: 0.8, not 0.9 (± 9e-07)"
    assert approx(expected).why_not({"a": 0.1}) == "key 'b' is missing"
    assert approx([1.0, 2.0]).why_not([1.0, 2.5]) == "at [1]: 2.5, not 2.0 (± 2e-06)"
    assert approx(0.5, abs=0.1) == 0.55


def test_cases_need_at_least_one_case() -> None:
    with pytest.raises(ValueError, match="at least one case"):
        check("x", points=1, cases=[])
