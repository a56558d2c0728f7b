"""Grading where courses grade: `grade export gradescope|github-classroom|prairielearn` and
the commands that run on each platform (`grade gradescope`, `grade ci`, `grade prairielearn`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from grader.cli.context import course_from, die, shown


def _export(outdir: Path, marker: str, write: Callable[[], list[Path]]) -> list[Path]:
    """Run `write` into `outdir` (empty, or an earlier export holding `marker`), or exit 2."""
    from grader.authoring.release import ReleaseError
    from grader.cli.release import refuse_foreign

    refuse_foreign(outdir, marker)
    try:
        return write()
    except ReleaseError as exc:
        die(str(exc))


@click.command("gradescope")
@click.argument("zip_path", metavar="ZIP", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-dependencies", is_flag=True,
              help="Leave out the dependencies' wheels (setup.sh then fetches them).")
@click.pass_context
def export_gradescope_zip(ctx: click.Context, zip_path: Path, no_dependencies: bool) -> None:
    """Write Gradescope's autograder.zip: setup.sh, run_autograder, the course, wheels.

    Upload ZIP as the autograder of a Gradescope programming assignment. It grades
    every exercise of the course with every check (hidden ones included; their
    tests show once grades are published), from whatever files learners upload.
    """
    from grader.authoring.release import ReleaseError
    from grader.platforms.gradescope import export_gradescope

    try:
        names, house = export_gradescope(course_from(ctx), zip_path,
                                         dependencies=not no_dependencies)
    except ReleaseError as exc:
        die(str(exc))
    wheels = [n for n in names if n.startswith("wheels/")]
    click.echo(f"wrote {shown(zip_path)}: setup.sh, run_autograder, the course "
               f"({len(names) - len(wheels) - 2} files) and {len(wheels)} wheels")
    if house.complete_for:
        click.echo(f"setup.sh installs offline on CPython {', '.join(house.complete_for)}")
    for python, why in house.missing_for.items():
        click.echo(f"warning: no wheels for CPython {python} (pip: {why}); there setup.sh "
                   "fetches the dependencies from the index", err=True)


@click.command("gradescope")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("/autograder"), show_default=True,
              help="Gradescope's folder: submission/ in, results/results.json out.")
@click.pass_context
def gradescope(ctx: click.Context, root: Path) -> None:
    """Run inside Gradescope's autograder (run_autograder calls it): grade the upload.

    Always writes ROOT/results/results.json and exits 0, whatever the submission does.
    """
    from grader.platforms.gradescope import run_autograder

    course = course_from(ctx)
    run_autograder(course, root)


@click.command("github-classroom")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--public-only", is_flag=True,
              help="Ship the learners' release (public checks only) instead of every check.")
@click.pass_context
def export_classroom_repo(ctx: click.Context, outdir: Path, public_only: bool) -> None:
    """Write a GitHub Classroom template repository into OUTDIR.

    \b
    .github/workflows/classroom.yml runs `grade ci exercise-N` per exercise and
    Classroom's reporter, which records each check's points. Learners can read
    everything in their repository, the checks included (hidden ones too, unless
    --public-only, which then grades the public checks alone).
    """
    from grader.platforms.classroom import WORKFLOW, export_classroom

    written = _export(outdir, WORKFLOW.as_posix(), lambda: export_classroom(
        course_from(ctx), outdir, public_only=public_only))
    click.echo(f"wrote {len(written)} files to {shown(outdir)}, among them "
               f"{WORKFLOW.as_posix()}; push it as the assignment's template repository")


@click.command("ci")
@click.argument("exercise_id", metavar="EXERCISE")
@click.pass_context
def ci(ctx: click.Context, exercise_id: str) -> None:
    """Grade EXERCISE in a CI step (GitHub Classroom): feedback in the log, and the step
    output `result` for Classroom's reporter. Exits 0 once graded (the reporter decides)."""
    import sys

    from grader.cli.context import exercises_named, warn_weakened
    from grader.platforms.classroom import command_free, file_to_grade, write_step_output
    from grader.platforms.grading import isolation_note
    from grader.reports.classroom import classroom_result, encoded
    from grader.reports.text import render
    from grader.runner import Grader
    from grader.sandbox.client import Sandbox, SandboxError

    course = course_from(ctx)
    exercise = exercises_named(course, [exercise_id])[0]
    path, note = file_to_grade(course, exercise)
    try:
        with Sandbox() as sandbox:
            click.echo(isolation_note(sandbox))
            warn_weakened(sandbox)
            result = Grader(course, sandbox).grade(exercise, path)
    except SandboxError as exc:
        die(f"the sandbox could not start: {exc}")
    report = render(result, exercise.title, encoding=sys.stdout.encoding)
    # Learner text (messages, hints, output) must not become the runner's commands.
    for line in command_free((f"note: {note}\n" if note else "") + report):
        click.echo(line)
    shown_name = path.relative_to(course.root).as_posix() if path.is_relative_to(
        course.root) else str(path)
    if not write_step_output("result", encoded(classroom_result(result, shown_name))):
        click.echo("note: GITHUB_OUTPUT is not set, so no step output was written", err=True)


@click.command("prairielearn")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--image", default=None, help="The grader image's name (default: "
              "grade-prairielearn:VERSION, built from the Dockerfile written to OUTDIR).")
@click.pass_context
def export_prairielearn_questions(ctx: click.Context, outdir: Path, image: str | None) -> None:
    """Write PrairieLearn questions (questions/<id>/) and the grader image's Dockerfile.

    Copy OUTDIR/questions/* into your PrairieLearn course's questions/, build and push
    the image (docker build -t IMAGE OUTDIR), and add the questions to an assessment.
    """
    from grader.platforms.prairielearn import IMAGE, export_prairielearn

    written = _export(outdir, "Dockerfile",
                      lambda: export_prairielearn(course_from(ctx), outdir, image or IMAGE))
    click.echo(f"wrote {len(written)} files to {shown(outdir)}: questions/ and Dockerfile "
               f"(image {image or IMAGE})")


@click.command("prairielearn")
@click.argument("exercise_id", metavar="EXERCISE")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("/grade"), show_default=True,
              help="PrairieLearn's folder: student/ and data/ in, results/results.json out.")
@click.pass_context
def prairielearn(ctx: click.Context, exercise_id: str, root: Path) -> None:
    """Run in PrairieLearn's grading container: grade EXERCISE from ROOT/student.

    Always writes ROOT/results/results.json; unfilled blanks, syntax errors and missing
    files are `gradable: false`, so they cost the learner no attempt.
    """
    from grader.cli.context import exercises_named
    from grader.platforms.prairielearn import run_prairielearn

    course = course_from(ctx)
    run_prairielearn(course, exercises_named(course, [exercise_id])[0], root)
