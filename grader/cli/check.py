"""`grade check`: validate the whole course; exit 0 only when nothing is wrong."""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

import click
from pydantic import TypeAdapter

from grader.authoring import CourseReport, validate_course
from grader.cli.context import command_names, course_file, course_from, die, exercises_named
from grader.cli.terminal import json_text
from grader.course import ConfigError, load_course
from grader.reports.problems import render_problems
from grader.sandbox.client import SandboxError


def plural(count: float, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


@click.command("check")
@click.argument("ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
@click.option("--static", is_flag=True,
              help="Grade nothing: only course.yaml, files, markers, checks files, points.")
@click.option("--release", "release_dir", type=click.Path(file_okay=False, exists=True,
              path_type=Path), help="Verify a learner's release written by grade release.")
@click.option("--mutants", is_flag=True,
              help="Also grade every mutant of each solution; list those that get full marks.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for --mutants (default: all cores).")
@click.pass_context
def check(ctx: click.Context, ids: tuple[str, ...], as_json: bool, static: bool,
          release_dir: Path | None, mutants: bool, jobs: int | None) -> None:
    """List every problem of the course (or of exercises IDS) with its file and line.

    \b
    Checks course.yaml against its schema, that files exist and ids are unique,
    that skeletons are up to date with the solutions (`grade build`), that every
    check has a name and points adding up to course.yaml's, that checks files
    import; then grades: each solution must get full marks, each skeleton 0,
    and every check the same verdict twice in a row.
    With --mutants, then grades small edits of each solution (a comparison
    flipped, a constant changed, a statement dropped, ...): any that still gets
    full marks is a wrong answer the checks miss, shown with its diff.
    Exit status: 0 no problem, 1 problems found, 2 could not check (usage).
    """
    if release_dir is not None:
        check_release(ctx, release_dir, as_json)
    if mutants and static:
        die("--mutants grades every mutant, so it cannot be combined with --static")
    path = course_file(ctx)
    if ids:
        with suppress(ConfigError):  # the report lists what is wrong with course.yaml
            exercises_named(load_course(path), ids)  # exits 2 on an unknown id
    reserved = command_names(ctx)
    try:
        report = validate_course(path, only=list(ids) or None, grade=not static,
                                 reserved=reserved)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")
    if not report.release and not report.problems:
        report = _with_release(ctx, report, grade=not static)
    if mutants:
        _mutants(ctx, report, list(ids), as_json, jobs)
    if as_json:
        click.echo(json_text(report.model_dump_json()))
    elif report.problems:
        click.echo(render_problems(report.problems))
    else:
        graded = "" if static else "; solutions get full marks, skeletons 0, verdicts repeat"
        if report.release:
            graded = " (a learner's release: public checks only, no solutions to grade)"
        click.echo(f"course OK: {plural(report.exercises, 'exercise')}, "
                   f"{plural(report.checks, 'check')}, {plural(report.points, 'point')}{graded}")
    sys.exit(0 if report.ok else 1)


def _with_release(ctx: click.Context, report: CourseReport, grade: bool) -> CourseReport:
    """The report with what `grade release` would refuse: the two never disagree."""
    from grader.cli.release import would_refuse

    problems = would_refuse(course_from(ctx), grade)
    return report.model_copy(update={"problems": problems, "ok": not problems}) \
        if problems else report


def _mutants(ctx: click.Context, report: CourseReport, ids: list[str], as_json: bool,
             jobs: int | None) -> NoReturn:
    """Mutation testing, once the course itself has no problem; exits 0 if nothing survives."""
    from grader.authoring.mutation import MutationReport, run_mutants
    from grader.batch.pool import WorkerPool
    from grader.batch.run import default_jobs
    from grader.reports.mutation import render_mutation

    if report.release:
        die("--mutants grades the solutions, which a learner's release does not have; "
            "run it in the author's course")
    if report.problems:
        result = MutationReport(ok=False, problems=report.problems)
    else:
        course = course_from(ctx)
        try:
            result = run_mutants(course, exercises_named(course, ids), jobs or default_jobs(),
                                 WorkerPool.for_course)
        except SandboxError as exc:
            die(f"the sandbox could not start: {exc}")
    click.echo(result.model_dump_json() if as_json else render_mutation(result))
    sys.exit(0 if result.ok else 1)


def check_release(ctx: click.Context, release_dir: Path, as_json: bool) -> None:
    """Verify the learner's release at `release_dir` against this course, then exit."""
    from grader.authoring.problems import Problem
    from grader.cli.release import release_problems

    problems = release_problems(course_from(ctx), release_dir)
    if as_json:
        click.echo(TypeAdapter(list[Problem]).dump_json(problems).decode())
    elif problems:
        click.echo(render_problems(problems))
    else:
        click.echo(f"release OK: {release_dir} has no solution line and no hidden check, "
                   "and its public checks judge as the course's")
    sys.exit(1 if problems else 0)
