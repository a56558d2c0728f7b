"""`grade list`: the course's exercises with their points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from grader.checks import load_checks
from grader.cli.context import course_from


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def list_exercises(ctx: click.Context, as_json: bool) -> None:
    """List the course's exercises, their files and points."""
    course = course_from(ctx)
    rows: list[dict[str, Any]] = []
    for exercise in course.exercises:
        checks = load_checks(course.checks_path(exercise))
        rows.append({"id": exercise.id, "title": exercise.title, "file": exercise.file,
                     "checks": len(checks), "points": sum(c.points for c in checks)})
    if as_json:
        click.echo(json.dumps({"course": course.title, "exercises": rows}))
        return
    click.echo(click.style(course.title, bold=True))
    for row in rows:
        click.echo(f"  {row['id']:<12} {row['title']:<48} {row['points']:>4g} points"
                   f"  ({row['checks']} checks)")
        # As the OS writes paths: exercises\exercise_1.py on Windows.
        click.echo(f"  {'':<12} file: {Path(course.exercises_dir) / row['file']}")
