"""The `grade` group: commands imported on first use, and exercise ids as commands."""

from __future__ import annotations

import importlib
from typing import Any

import click

from grader.cli.context import course_from, die
from grader.course import ConfigError, find_course, load_course


class CourseGroup(click.Group):
    """A group of lazily imported commands, whose unknown commands are looked up as
    exercise ids in course.yaml."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        if name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            lazy: click.Command = getattr(importlib.import_module(module), attribute)
            self.add_command(lazy, name)
            return lazy
        from grader.cli.exercise import exercise_command

        course = course_from(ctx)
        exercise = course.exercise(name)
        if exercise is None:
            known = ", ".join(e.id for e in course.exercises)
            die(f"no command or exercise named {name!r} (exercises: {known}; "
                "commands: see grade --help)")
        return exercise_command(exercise)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        super().format_commands(ctx, formatter)
        try:
            course = load_course(find_course())
        except ConfigError:
            return
        with formatter.section("Exercises (grade ID [FILE])"):
            formatter.write_dl([(e.id, e.title) for e in course.exercises])
