"""GitHub Classroom's grader-step result: what its autograding reporter reads.

A grader step sets the output `result` to base64 of this JSON (the shape the
`classroom-resources/autograding-*-grader` actions write); the reporter sums
`tests[].score` against `max_score`, so each check's points count, fractions too.
"""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import ConfigDict

from grader.models import Model
from grader.results import ExerciseResult

Status = Literal["pass", "fail", "error"]


class ClassroomTest(Model):
    model_config = ConfigDict(extra="forbid")

    name: str
    status: Status
    score: float
    message: str
    test_code: str
    filename: str
    line_no: int
    duration: int  # milliseconds, as the stock graders report it


class ClassroomResult(Model):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    status: Status
    max_score: float
    tests: list[ClassroomTest]


def classroom_result(result: ExerciseResult, filename: str) -> ClassroomResult:
    """`result` as one grader step's output: one test per check."""
    error = result.error is not None
    tests = [ClassroomTest(
        name=check.name, status="error" if error else "pass" if check.passed else "fail",
        score=check.score, message=result.error if error else
        check.message + (f" (hint: {check.hint})" if check.hint and not check.passed else ""),
        test_code=f"grade {result.exercise}", filename=filename, line_no=0,
        duration=round(result.seconds * 1000 / max(1, len(result.checks))))
        for check in result.checks]
    status: Status = "error" if error else "pass" if result.full_marks else "fail"
    return ClassroomResult(status=status, max_score=result.max_score, tests=tests)


def encoded(result: ClassroomResult) -> str:
    """The step output's value: base64 of the JSON."""
    return base64.b64encode(result.model_dump_json().encode()).decode()


def error_result(exercise_id: str, max_score: float) -> ClassroomResult:
    """The result of a step that could not grade: 0 of `max_score`, for the reporter."""
    return ClassroomResult(status="error", max_score=max_score, tests=[ClassroomTest(
        name=f"{exercise_id} could not be graded", status="error", score=0.0,
        message=(f"{exercise_id} was not graded (the step failed, timed out or never ran): "
                 "see this step's log, and tell your teaching assistant if it persists"),
        test_code=f"grade {exercise_id}", filename="", line_no=0, duration=0)])
