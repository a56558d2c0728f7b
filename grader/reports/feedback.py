"""One Markdown feedback file per student: the messages a learner sees in `grade`.

Everything in it that came from learner code (messages quote returned values,
printed output) is escaped or fenced, so it cannot turn into markup.
"""

from __future__ import annotations

import re

from grader.reports.adjustments import adjustment_line
from grader.reports.cells import points
from grader.results import CheckResult, ClassResult, ExerciseInfo, ExerciseResult, StudentResult


def markdown_text(text: str) -> str:
    """Inline text with HTML and Markdown's active characters made literal. Only `<`
    and `&` become entities (a tag or an entity needs them); `>` mid-line is plain text
    in Markdown, so "10 -> 9" reads as written, and a leading one is backslashed (it
    would open a quote)."""
    escaped = re.sub(r"([\\`*_\[\]#|])", r"\\\1",
                     text.replace("&", "&amp;").replace("<", "&lt;"))
    return "\\" + escaped if escaped.startswith(">") else escaped


def markdown_fence(text: str, language: str = "text") -> list[str]:
    """A code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *text.rstrip("\n").splitlines(), fence]


def _check(check: CheckResult, exercise_error: bool) -> list[str]:
    mark = "✓" if check.passed else "✗"
    lines = [f"- {mark} **{markdown_text(check.name)}**: {points(check.score)}/"
             f"{points(check.max_score)}"]
    if check.passed or exercise_error:
        return lines
    lines.append(f"  - {markdown_text(check.message)}")
    if check.hint:
        lines.append(f"  - hint: {markdown_text(check.hint)}")
    if check.detail:
        lines += ["", *("  " + row for row in markdown_fence(check.detail)), ""]
    return lines


def _exercise(info: ExerciseInfo, result: ExerciseResult) -> list[str]:
    lines = [f"## {markdown_text(info.title)} ({info.id}): "
             f"{points(result.score)}/{points(result.max_score)}", ""]
    line = adjustment_line(result)
    if line:
        lines += [f"**Score:** {markdown_text(line)}", ""]
    if result.error:
        lines += [f"**Could not be checked:** {markdown_text(result.error)}", ""]
    for check in result.checks:
        lines += _check(check, result.error is not None)
    if result.output.strip():
        lines += ["", "What your code printed:", "", *markdown_fence(result.output)]
    return [*lines, ""]


def _name(student: str, result: ClassResult) -> str:
    """The roster's (or the LMS's) name, with the id after it; the id alone without one."""
    person = result.people.get(student)
    return f"{person.name} ({student})" if person and person.name else student


def feedback_markdown(student: StudentResult, result: ClassResult) -> str:
    """The feedback file of `student`."""
    lines = [f"# {markdown_text(result.course)}", "",
             f"Feedback for **{markdown_text(_name(student.student, result))}**: "
             f"**{points(student.total)}/{points(result.max_score)}** points", ""]
    for info, exercise in zip(result.exercises, student.exercises, strict=True):
        lines += _exercise(info, exercise)
    return "\n".join(lines)
