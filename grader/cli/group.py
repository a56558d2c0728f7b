"""The `grade` group: commands imported on first use, and exercise ids as commands."""

from __future__ import annotations

import importlib
from typing import Any

import click

from grader.cli.context import course_from, course_titles, die


class CourseGroup(click.Group):
    """A group of lazily imported commands, whose unknown commands are looked up as
    exercise ids in course.yaml."""

    def __init__(self, *args: Any, lazy_commands: dict[str, tuple[str, str]] | None = None,
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
            module, attribute = self.lazy_commands[name][0].split(":")
            lazy: click.Command = getattr(importlib.import_module(module), attribute)
            self.add_command(lazy, name)
            return lazy
        from grader.cli.exercise import Planned, exercise_command, planned

        plan = planned(ctx, name)  # from the course cache: no models loaded yet
        if plan is None:
            course = course_from(ctx)
            exercise = course.exercise(name)
            if exercise is None:
                known = ", ".join(e.id for e in course.exercises)
                die(f"no command or exercise named {name!r} (exercises: {known}; "
                    "commands: see grade --help)")
            plan = Planned.of(course, exercise)
        return exercise_command(plan)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        """Commands and exercises for --help, from summaries: nothing heavy is imported."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary)
                                in sorted(self.lazy_commands.items())])
        exercises = course_titles()
        if exercises:
            with formatter.section("Exercises (grade ID [FILE])"):
                formatter.write_dl(exercises)
