"""Gradescope's autograder `results.json`, one per student.

Shape (gradescope-autograders.readthedocs.io, "specs"): top level `score`,
`execution_time`, `output`, `output_format`, `visibility`, `stdout_visibility`,
`tests[]`; each test `name`, `score`, `max_score`, `status`, `output`, `visibility`
(and `output_format`, which the autograder sets to Markdown).
One test per check, named "<exercise id>: <check name>".

Hidden checks' tests are `after_published`; the top-level `output` is shown to learners
at once, so it says only what the visible checks add up to and how many hidden checks
and points remain (as `grade exercise-N` does in a release). Gradescope itself hides the
total score from learners while any test is unpublished (Gradescope's autograder
specification, https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Controlling
Test Case Visibility").
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from grader.models import Model
from grader.reports.adjustments import adjustment_line
from grader.reports.cells import points
from grader.reports.feedback import markdown_fence, markdown_text
from grader.results import CheckResult, ExerciseResult, StudentResult

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
OutputFormat = Literal["text", "html", "simple_format", "md", "ansi"]


class GradescopeTest(Model):
    model_config = ConfigDict(extra="forbid")

    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    visibility: Visibility = "visible"
    output_format: OutputFormat | None = None


class GradescopeResults(Model):
    model_config = ConfigDict(extra="forbid")

    score: float
    execution_time: float = Field(ge=0, description="seconds")
    output: str
    output_format: OutputFormat = "text"
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


def test_visibility(check: CheckResult, visibility: Visibility) -> Visibility:
    """A hidden check's test shows once the TA publishes grades, never before."""
    return "after_published" if check.visibility == "hidden" and visibility == "visible" \
        else visibility


def exercise_summary(exercise: ExerciseResult) -> str:
    """An exercise's points as learners may see them before publication."""
    hidden = [c for c in exercise.checks if c.visibility == "hidden"]
    if not hidden or exercise.error:  # ungraded: every check scored 0, nothing to withhold
        return f"{points(exercise.score)}/{points(exercise.max_score)}"
    shown = [c for c in exercise.checks if c.visibility != "hidden"]
    worth = sum(c.max_score for c in hidden)
    return (f"{points(sum(c.score for c in shown))}/{points(sum(c.max_score for c in shown))} "
            f"from the visible checks (not the final score); {len(hidden)} hidden "
            f"check{'s' * (len(hidden) != 1)} ({points(worth)} point{'s' * (worth != 1)}) "
            "shown when grades are published")


def gradescope_results(student: StudentResult, visibility: Visibility = "visible"
                       ) -> GradescopeResults:
    """`student`'s results as Gradescope reads them."""
    tests = [GradescopeTest(name=f"{e.exercise}: {c.name}", score=c.score,
                            max_score=c.max_score,
                            status="passed" if c.passed else "failed",
                            output=_test_output(c, e), visibility=test_visibility(c, visibility))
             for e in student.exercises for c in e.checks]
    summary = [f"{e.exercise}: {exercise_summary(e)}"
               + (f" ({e.error})" if e.error else "")
               + (f"; {line}" if (line := adjustment_line(e)) else "")
               for e in student.exercises]
    return GradescopeResults(
        score=student.total, execution_time=round(sum(e.seconds for e in student.exercises), 3),
        output="\n".join(summary), visibility=visibility, tests=tests)


def _markdown_output(check: CheckResult, exercise: ExerciseResult) -> str:
    """A test's output in Markdown; learner-made text is escaped or fenced."""
    if exercise.error:
        return f"not checked: {markdown_text(exercise.error)}"
    lines = [markdown_text(check.message)]
    if not check.passed and check.hint:
        lines += ["", f"**hint:** {markdown_text(check.hint)}"]
    if not check.passed and check.detail:
        lines += ["", *markdown_fence(check.detail)]
    return "\n".join(lines)


def autograder_results(student: StudentResult, notes: list[str], seconds: float
                       ) -> GradescopeResults:
    """What Gradescope's autograder reports for one submission: Markdown for learners.

    The learner's printed output is not in it: the autograder prints it to its stdout,
    which Gradescope shows to instructors only (`stdout_visibility: hidden`).
    """
    tests = [GradescopeTest(name=f"{e.exercise}: {c.name}", score=c.score,
                            max_score=c.max_score, status="passed" if c.passed else "failed",
                            output=_markdown_output(c, e), output_format="md",
                            visibility=test_visibility(c, "visible"))
             for e in student.exercises for c in e.checks]
    lines = [f"- **{e.exercise}**: {exercise_summary(e)}"
             + (f": {markdown_text(e.error)}" if e.error else "") for e in student.exercises]
    lines += [f"- note: {markdown_text(note)}" for note in notes]
    return GradescopeResults(score=student.total, execution_time=round(seconds, 3),
                             output="\n".join(lines), output_format="md",
                             stdout_visibility="hidden", tests=tests)
