"""One exercise's result inline in Jupyter: HTML, with the terminal text as fallback.

Messages, hints, histograms and printed output come from learner code or quote
it: every piece is escaped, so a learner's `<script>` stays text on the page.
"""

from __future__ import annotations

from html import escape

import click

from grader.reports.cells import points
from grader.reports.text import render
from grader.results import CheckResult, ExerciseResult

STYLE = ("font-family: system-ui, sans-serif; line-height: 1.4; "
         "border-left: 4px solid {colour}; padding: .4em .9em; margin: .3em 0")
PASSED, FAILED = "#2e7d32", "#b03a2e"


def _check_html(check: CheckResult, show_why: bool) -> str:
    mark = (f"<span style='color:{PASSED}'>&#10003;</span>" if check.passed
            else f"<span style='color:{FAILED}'>&#10007;</span>")
    score = f"{points(check.score)}/{points(check.max_score)}"
    parts = [f"<td>{mark}</td><td>{escape(check.name)}</td>"
             f"<td style='text-align:right'>{score}</td>"]
    why = []
    if show_why and not check.passed:
        why.append(f"<div>{escape(check.message)}</div>")
        if check.hint:
            why.append(f"<div><i>hint:</i> {escape(check.hint)}</div>")
        if check.detail:
            why.append(f"<pre style='margin:.3em 0'>{escape(check.detail)}</pre>")
    row = "<tr>" + "".join(parts) + "</tr>"
    if why:
        row += f"<tr><td></td><td colspan='2'>{''.join(why)}</td></tr>"
    return row


def result_html(result: ExerciseResult, title: str) -> str:
    """The report as an HTML fragment for a notebook's output area."""
    colour = PASSED if result.full_marks else FAILED
    lines = [f"<div style=\"{STYLE.format(colour=colour)}\">",
             f"<div><b>{escape(result.exercise)} &middot; {escape(title)}</b></div>"]
    if result.error:
        lines.append(f"<p style='color:{FAILED}'>&#10007; {escape(result.error)}</p>")
    rows = "".join(_check_html(c, show_why=result.error is None) for c in result.checks)
    lines.append(f"<table style='margin:.4em 0'>{rows}</table>")
    lines.append(f"<div><b>Score: {points(result.score)}/{points(result.max_score)}</b></div>")
    if printed := result.output.rstrip("\n"):
        lines.append(f"<details><summary>What your code printed</summary>"
                     f"<pre>{escape(printed)}</pre></details>")
    lines.append("</div>")
    return "\n".join(lines)


class NotebookReport:
    """What `grader.check` displays: Jupyter picks HTML, a plain console the text."""

    def __init__(self, result: ExerciseResult, title: str) -> None:
        self.result = result
        self.title = title

    def _repr_html_(self) -> str:
        return result_html(self.result, self.title)

    def __repr__(self) -> str:
        return click.unstyle(render(self.result, self.title, show_output=True))
