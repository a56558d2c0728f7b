"""What every command shares: finding the course, errors as exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from grader.cli.exits import USAGE_ERROR
from grader.cli.notes import weakened_note
from grader.cli.terminal import shown as shown
from grader.course import ConfigError, ConfigProblem, find_course, load_course
from grader.course.load import cached_course

if TYPE_CHECKING:
    from grader.course import Course, Exercise
    from grader.sandbox.client import SandboxBackend



def die(message: str) -> NoReturn:
    """Print `message` as an error and exit with the usage/config status."""
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(USAGE_ERROR)


def course_file(ctx: click.Context) -> Path:
    """The course.yaml of this invocation (--course, else found), or exit 2 with why."""
    root = ctx.find_root()
    root.ensure_object(dict)
    given = root.obj.get("course_path") or root.params.get("course_path")
    try:
        if not given:
            return find_course()
        path = Path(given)
        path = path / "course.yaml" if path.is_dir() else path
        if not path.is_file():
            raise ConfigError(path, [ConfigProblem("no such file")])
        return path
    except ConfigError as exc:
        die(str(exc))


def course_from(ctx: click.Context) -> Course:
    """The course for this invocation (cached on the context), or exit 2 with why."""
    root = ctx.find_root()
    root.ensure_object(dict)
    if "course" not in root.obj:
        path = course_file(ctx)
        try:
            root.obj["course"] = load_course(path)
        except ConfigError as exc:
            die(str(exc))
    course: Course = root.obj["course"]
    return course


def warn_weakened(sandbox: SandboxBackend, batch: bool = False) -> None:
    """Say once, on stderr, which isolation measures this machine would not allow."""
    say_weakened(str(sandbox.isolation.get("level", "")), sandbox.weakened, batch)


def say_weakened(level: str, missing: list[str], batch: bool = False) -> None:
    """The note of `warn_weakened`, from a sandbox's level and missing measures."""
    note = weakened_note(level, missing, batch)
    if note is not None:
        click.echo(note, err=True)


def command_names(ctx: click.Context) -> frozenset[str]:
    """Every command of `grade`: an exercise id must not take one of these names."""
    root = ctx.find_root()
    group = root.command
    return frozenset(group.list_commands(root)) if isinstance(group, click.Group) else frozenset()


def course_titles() -> list[tuple[str, str]]:
    """(id, title) of each exercise of the course here, or none if there is no course."""
    try:
        path = find_course()
        cached = cached_course(path)
        if cached is not None:
            return [(e["id"], e["title"]) for e in cached["exercises"]]
        return [(e.id, e.title) for e in load_course(path).exercises]
    except (ConfigError, KeyError, TypeError):
        return []


def exercises_named(course: Course, ids: Sequence[str]) -> list[Exercise]:
    """The exercises with these ids, in course order (all when none are given), or exit 2."""
    unknown = [i for i in ids if course.exercise(i) is None]
    if unknown:
        known = ", ".join(e.id for e in course.exercises)
        die(f"no exercise named {unknown[0]!r} (exercises: {known})")
    return [e for e in course.exercises if not ids or e.id in ids]
