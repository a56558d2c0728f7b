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

# Every block states its own alignment, fonts and wrapping, inline: JupyterLab's and
# Notebook 7's stylesheets right-align every table cell in an output and wrap `pre`,
# and classic Jupyter, VS Code and Colab each style outputs their own way. So no
# <table>: a grid of divs, which none of them styles.
STYLE = ("font-family: system-ui, sans-serif; line-height: 1.4; text-align: left; "
         "border-left: 4px solid {colour}; padding: .4em .9em; margin: .3em 0")
GRID = ("display: inline-grid; grid-template-columns: auto auto auto; column-gap: .7em; "
        "row-gap: .15em; align-items: baseline; max-width: 100%; margin: .4em 0; "
        "text-align: left")
MONO = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
        "font-size: .9em; line-height: 1.3; white-space: pre; overflow-x: auto; "
        "text-align: left; margin: .3em 0; padding: 0; border: 0; background: none")
PASSED, FAILED = "#2e7d32", "#b03a2e"


def _check_html(check: CheckResult, show_why: bool) -> str:
    mark = (f"<span style='color:{PASSED}'>&#10003;</span>" if check.passed
            else f"<span style='color:{FAILED}'>&#10007;</span>")
    score = f"{points(check.score)}/{points(check.max_score)}"
    row = (f"<div>{mark}</div><div class='grade-name'>{escape(check.name)}</div>"
           f"<div style='text-align:right; white-space:nowrap'>{score}</div>")
    why = []
    if show_why and not check.passed:
        why.append(f"<div class='grade-message'>{escape(check.message)}</div>")
        if check.hint:
            why.append(f"<div class='grade-hint'><i>hint:</i> {escape(check.hint)}</div>")
        if check.detail:
            why.append(f"<pre class='grade-detail' style='{MONO}'>{escape(check.detail)}</pre>")
    if why:
        row += f"<div></div><div style='grid-column: 2 / 4; min-width: 0'>{''.join(why)}</div>"
    return row


def result_html(result: ExerciseResult, title: str) -> str:
    """The report as an HTML fragment for a notebook's output area."""
    colour = PASSED if result.full_marks else FAILED
    lines = [f"<div style=\"{STYLE.format(colour=colour)}\">",
             f"<div><b>{escape(result.exercise)} &middot; {escape(title)}</b></div>"]
    if result.error:
        lines.append(f"<div class='grade-error' style='color:{FAILED}; margin: .4em 0'>"
                     f"&#10007; {escape(result.error)}</div>")
    rows = "".join(_check_html(c, show_why=result.error is None) for c in result.checks)
    lines.append(f"<div class='grade-checks' style='{GRID}'>{rows}</div>")
    lines.append(f"<div><b>Score: {points(result.score)}/{points(result.max_score)}</b></div>")
    if printed := result.output.rstrip("\n"):
        lines.append(f"<details><summary>What your code printed</summary>"
                     f"<pre style='{MONO}'>{escape(printed)}</pre></details>")
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
