"""Gradescope's autograder `results.json`, one per student.

Shape (gradescope-autograders.readthedocs.io, "specs"): top level `score`,
`execution_time`, `output`, `output_format`, `visibility`, `stdout_visibility`,
`tests[]`; each test `name`, `score`, `max_score`, `status`, `output`, `visibility`.
One test per check, named "<exercise id>: <check name>".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.reports.adjustments import adjustment_line
from grader.reports.cells import points
from grader.results import CheckResult, ExerciseResult, StudentResult

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class GradescopeTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    visibility: Visibility = "visible"


class GradescopeResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float
    execution_time: float = Field(ge=0, description="seconds")
    output: str
    output_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    tests: list[GradescopeTest]


def _test_output(check: CheckResult, exercise: ExerciseResult) -> str:
    if exercise.error:
        return f"not checked: {exercise.error}"
    parts = [check.message]
    if not check.passed and check.hint:
        parts.append(f"hint: {check.hint}")
    if not check.passed and check.detail:
        parts.append(check.detail)
    return "\n".join(parts)


def gradescope_results(student: StudentResult, visibility: Visibility = "visible"
                       ) -> GradescopeResults:
    """`student`'s results as Gradescope reads them."""
    tests = [GradescopeTest(name=f"{e.exercise}: {c.name}", score=c.score,
                            max_score=c.max_score,
                            status="passed" if c.passed else "failed",
                            output=_test_output(c, e), visibility=visibility)
             for e in student.exercises for c in e.checks]
    summary = [f"{e.exercise}: {points(e.score)}/{points(e.max_score)}"
               + (f" ({e.error})" if e.error else "")
               + (f"; {line}" if (line := adjustment_line(e)) else "")
               for e in student.exercises]
    return GradescopeResults(
        score=student.total, execution_time=round(sum(e.seconds for e in student.exercises), 3),
        output="\n".join(summary), visibility=visibility, tests=tests)
