"""`grade export ...`: hand the course or its grades to other tools."""

from __future__ import annotations

import click

from grader.cli.notebooks import export_nbgrader_course, export_nbgrader_grades


@click.group("export")
def export() -> None:
    """Export the course or its grades to other tools (nbgrader, ...)."""


export.add_command(export_nbgrader_course)
export.add_command(export_nbgrader_grades)
