"""`grade status [--json]`: every exercise's best and last score, and the next one."""

from __future__ import annotations

import click

from grader.cli.context import course_from
from grader.progress import ProgressStore, status_report
from grader.reports.progress import render_status


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show your progress: best and last score, blanks left, when and which file."""
    course = course_from(ctx)
    store = ProgressStore(course.root)
    report = status_report(course, store.load(), store.notes)
    for note in report.notes:  # on stderr, so that stdout stays one JSON object
        click.echo(click.style("note: ", fg="yellow") + note, err=True)
    click.echo(report.model_dump_json() if as_json else render_status(report))
