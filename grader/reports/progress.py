"""The learner's loop on a terminal: the status table, full marks, a `-k` run's scope."""

from __future__ import annotations

import click

from grader.course import Exercise
from grader.progress.status import StatusReport
from grader.reports.cells import points


def full_marks_line(exercise: Exercise, done: int, total: int) -> str:
    """What finishing `exercise` taught (course.yaml's `learned:`), and how far along."""
    learned = f" You learned {exercise.learned.rstrip('.')}." if exercise.learned else ""
    count = ("every exercise is done!" if done >= total
             else f"{done} of {total} exercises done.")
    return click.style(f"Full marks for {exercise.id}!", fg="green", bold=True) + \
        f"{learned} {count[0].upper()}{count[1:]}"


def scope_line(only: str, ran: int, total: int) -> str:
    """After a `-k` run: the score is not the exercise's score."""
    return click.style(f"-k {only!r} ran {ran} of {total} checks: this score covers only "
                       "those checks (run without -k for the exercise's score)", fg="yellow")


def _score(value: float | None, max_score: float | None) -> str:
    if value is None:
        return "-"
    return f"{points(value)}/{points(max_score)}" if max_score else points(value)


def render_status(report: StatusReport) -> str:
    """`grade status`: one table of every exercise, then what to do next."""
    header = ("exercise", "done", "best", "last", "blanks", "last graded", "file")
    rows = [(r.id, "yes" if r.done else "", _score(r.best, r.max_score),
             _score(r.last, r.max_score), "?" if r.blanks is None else str(r.blanks),
             r.graded_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.graded_at
             else "never", r.file) for r in report.exercises]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [click.style(report.course, bold=True), ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
              for row in [header, *rows]]
    total = len(report.exercises)
    lines.append("")
    if report.next is None:
        lines.append(click.style(f"All {total} exercises have full marks.", fg="green"))
    else:
        lines.append(f"{report.done} of {total} done; next: "
                     + click.style(report.next, bold=True)
                     + f" (grade {report.next}, or grade watch)")
    return "\n".join(lines)
