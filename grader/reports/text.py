"""The learner's terminal report: one line per check, then why a check failed."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Protocol

from grader.reports.ansi import style
from grader.reports.cells import points
from grader.reports.plain import printable


# The report reads results through these views, not the models: `grader.results`'
# CheckResult and ExerciseResult fit them, and so does a file with blanks reported
# before the models import (grader/cli/unfinished.py), with the same lines.
class CheckView(Protocol):
    """One check's verdict as the report shows it."""

    @property
    def name(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def score(self) -> float: ...
    @property
    def max_score(self) -> float: ...
    @property
    def message(self) -> str: ...
    @property
    def hint(self) -> str | None: ...
    @property
    def detail(self) -> str | None: ...


class HiddenView(Protocol):
    """The hidden checks a learner's release leaves out."""

    @property
    def checks(self) -> int: ...
    @property
    def points(self) -> float: ...


class ResultView(Protocol):
    """One submission of one exercise as the report shows it."""

    @property
    def exercise(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def max_score(self) -> float: ...
    @property
    def error(self) -> str | None: ...
    @property
    def checks(self) -> Sequence[CheckView]: ...
    @property
    def output(self) -> str: ...
    @property
    def withheld(self) -> HiddenView | None: ...
    @property
    def full_marks(self) -> bool: ...
    @property
    def final_max_score(self) -> float: ...


def _wrap(text: str, indent: str) -> list[str]:
    lines = textwrap.wrap(text, width=88, initial_indent=indent, subsequent_indent=indent)
    return lines or [indent]


def _check_lines(check: CheckView, mark: str, width: int, error: bool) -> list[str]:
    score = f"{points(check.score)}/{points(check.max_score)}"
    name = style(check.name, bold=not check.passed)
    pad = " " * max(1, width - len(check.name))
    lines = [f"  {mark} {name}{pad}{score:>7}"]
    if check.passed or error:
        return lines
    lines += _wrap(check.message, "      ")
    # A check with cases (results.CaseResult): which earned their share, which did not.
    cases = getattr(check, "cases", None) or []  # the blanks-only view has none
    if cases:
        right = ", ".join(c.name for c in cases if c.passed) or "none"
        wrong = ", ".join(c.name for c in cases if not c.passed)
        lines += _wrap(f"cases passed: {right}; failed: {wrong}", "      ")
    if check.hint:
        lines += _wrap(f"hint: {check.hint}", "      ")
    if check.detail:
        lines += [""] + ["        " + row for row in check.detail.splitlines()] + [""]
    return lines


def withheld_note(result: ResultView) -> str:
    """The sentence that says what the public checks of a release leave out."""
    hidden = result.withheld
    if hidden is None:
        return ""
    checks = f"{hidden.checks} hidden check{'s' * (hidden.checks != 1)}"
    verb = "runs" if hidden.checks == 1 else "run"
    return (f"{checks} ({points(hidden.points)} point{'s' * (hidden.points != 1)}) {verb} "
            f"when your work is graded; the final score is out of "
            f"{points(result.final_max_score)}.")


def _score_line(result: ResultView) -> str:
    score = f"Score: {points(result.score)}/{points(result.max_score)}"
    if result.withheld:  # a learner's release: never let the public score pass for the final one
        score = (f"Public checks: {points(result.score)}/{points(result.max_score)} "
                 "(not your final score)")
    colour = "green" if result.full_marks else "yellow" if result.score else "red"
    line = style(score, fg=colour, bold=True)
    return f"{line}\n{withheld_note(result)}" if result.withheld else line


def render(result: ResultView, title: str, *, encoding: str | None = "utf-8",
           show_output: bool = False, score_first: bool = False) -> str:
    """The whole report for one exercise, as text with ANSI styles (click strips them).

    `score_first` (grade watch) puts the score under the title, where a redrawn
    screen keeps it in view.
    """
    ok, bad = "✓", "✗"  # "+" and "x" where the console cannot write them (`printable`)
    lines = [style(f"{result.exercise} · {title}", bold=True), ""]
    if score_first:
        lines[1:1] = [_score_line(result)]
    if result.error:
        lines += _wrap(style(f"{bad} ", fg="red") + result.error, "  ")
        lines.append("")
    width = max([len(c.name) for c in result.checks] + [20]) + 2
    for check in result.checks:
        mark = style(ok, fg="green") if check.passed else style(bad, fg="red")
        lines += _check_lines(check, mark, width, error=result.error is not None)
    if not score_first:
        lines += ["", _score_line(result)]
    printed = result.output.rstrip("\n")
    if printed and show_output:
        lines += ["", "What your code printed:"] + ["  | " + r for r in printed.splitlines()]
    elif printed:
        count = len(printed.splitlines())
        lines.append(f"(your code printed {count} line{'s' * (count != 1)}; "
                     "add --output to see them)")
    return printable("\n".join(lines), encoding)

