"""Grading where courses grade: `grade export gradescope|github-classroom|prairielearn` and
the commands that run on each platform (`grade gradescope`, `grade ci`, `grade prairielearn`).
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.context import course_from, die, shown


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
        names = export_gradescope(course_from(ctx), zip_path,
                                  dependencies=not no_dependencies)
    except ReleaseError as exc:
        die(str(exc))
    wheels = [n for n in names if n.startswith("wheels/")]
    click.echo(f"wrote {shown(zip_path)}: setup.sh, run_autograder, the course "
               f"({len(names) - len(wheels) - 2} files) and {len(wheels)} wheels")


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
