"""`grade schema`: the JSON Schema of course.yaml, for editors to validate it as you type."""

from __future__ import annotations

import json

import click

from grader.course import Course


def course_schema() -> str:
    """The JSON Schema of course.yaml, generated from the pydantic model."""
    return json.dumps(Course.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of course.yaml (save it as course.schema.json).

    \b
    VS Code (YAML extension): put this comment line in course.yaml
      # yaml-language-server: $schema=course.schema.json
    """
    click.echo(course_schema(), nl=False)
