"""`grade release OUTDIR`: write the learner's copy of the course, then verify it."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from grader.authoring.problems import Problem
from grader.cli.context import course_from, die, shown
from grader.course import Course
from grader.reports.problems import render_problems
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox


def refuse_foreign(outdir: Path, marker: str) -> None:
    """Exit 2 unless `outdir` is missing, empty, or an earlier copy of ours (holds `marker`)."""
    if outdir.exists() and (not outdir.is_dir() or (
            any(outdir.iterdir()) and not (outdir / marker).exists())):
        die(f"{outdir} exists and is not an earlier copy (no {marker}): "
            "choose a new folder, or remove it yourself")


def release_problems(course: Course, folder: Path, grade: bool = True) -> list[Problem]:
    """How the release in `folder` leaks or judges unlike `course` (exit 2 without a sandbox).

    `grade=False` only searches for leaks (`grade check --static`).
    """
    from grader.authoring.leaks import verify_release

    if not grade:
        return verify_release(course, folder, None)
    try:
        with make_sandbox() as sandbox:
            return verify_release(course, folder, sandbox)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")


def would_refuse(course: Course, grade: bool) -> list[Problem]:
    """Every problem `grade release` would refuse `course` for: `grade check` runs it too."""
    from grader.authoring.release import ReleaseError, copy_course

    with tempfile.TemporaryDirectory(prefix="grade-release-") as tmp:
        try:
            copy_course(course, Path(tmp) / "release", release=True)
        except ReleaseError as exc:
            return [Problem(file="course.yaml", message=f"grade release would refuse: {exc}")]
        return release_problems(course, Path(tmp) / "release", grade)


@click.command("release")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def release(ctx: click.Context, outdir: Path) -> None:
    """Write the learners' copy of the course to OUTDIR, and verify it.

    \b
    OUTDIR gets the exercises (.py and .ipynb), course.yaml without solution paths,
    the public checks and the helper modules they import: nothing of solutions/ and no
    check marked @check(..., visibility="hidden"). Then the copy is searched for
    solution lines and hidden checks, and its public checks must judge the solution,
    the skeleton and a wrong answer as the course does (as `grade check --release`).
    An earlier release in OUTDIR is replaced; a leaking one is not kept.
    """
    from grader.authoring.release import ReleaseError, copy_course, replace_folder

    course = course_from(ctx)
    refuse_foreign(outdir, "course.yaml")
    outdir.resolve().parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=outdir.resolve().parent, prefix=".release-") as tmp:
        built = Path(tmp) / "release"
        try:
            copied = copy_course(course, built, release=True)
        except ReleaseError as exc:
            die(str(exc))
        problems = release_problems(course, built)
        if problems:
            click.echo(render_problems(problems))
            click.echo(f"the release was not written to {shown(outdir)}", err=True)
            sys.exit(1)
        replace_folder(built, outdir)
    hidden = sum(len(h) for h in copied.hidden.values())
    click.echo(f"wrote {len(copied.files)} files to {shown(outdir)}: "
               f"{len(course.exercises)} exercises, {hidden} hidden "
               f"check{'s' * (hidden != 1)} left out")
    click.echo("verified: no solution line, no hidden check, the same public verdicts")
