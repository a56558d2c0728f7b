"""changes.csv and changes.md: what a regrade moved, for the TA who must explain it."""

from __future__ import annotations

import csv
import io
from itertools import groupby

from grader.reports.cells import points, spreadsheet_text
from grader.reports.feedback import markdown_text
from grader.results import Change

COLUMNS = ("student", "exercise", "check", "old", "new", "why")


def _score(value: float | None) -> str:
    return "" if value is None else points(value)


def changes_csv(changes: list[Change]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([spreadsheet_text(c.student), c.exercise, spreadsheet_text(c.check),
                      _score(c.old), _score(c.new), c.why] for c in changes)
    return out.getvalue()


def _cell(text: str) -> str:
    """Text from an id, a check or a reason: literal in Markdown, HTML and tables (a
    student id such as `<img src=x onerror=...>` stays text)."""
    return markdown_text(text.replace("\r", " ").replace("\n", " "))


def _feedback(edited: int) -> list[str]:
    """The line that tells the TA to upload feedback files again."""
    if not edited:
        return []
    return [f"{edited} feedback file{'s' * (edited != 1)} changed (messages, hints or "
            "reasons): upload feedback/ again.", ""]


def changes_markdown(changes: list[Change], compared: int, *, edited: int = 0) -> str:
    """changes.md: who moved and why, with how many feedback files changed."""
    students = sorted({c.student for c in changes})
    lines = ["# Changes since the last run", ""]
    lines += _feedback(edited)
    if not changes:
        return "\n".join([*lines, f"No score moved ({compared} results compared).", ""])
    lines += [f"{len(students)} student{'s' * (len(students) != 1)} moved "
              f"({compared} results compared).", ""]
    for student, rows in groupby(changes, key=lambda c: c.student):
        lines += [f"## {_cell(student)}", "", "| exercise | check | old | new | why |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {_cell(c.exercise)} | {_cell(c.check) or '(final score)'} | "
                  f"{_score(c.old) or '-'} | {_score(c.new) or '-'} | {_cell(c.why)} |"
                  for c in rows]
        lines.append("")
    return "\n".join(lines)
