"""`grade export ...`: hand the course, or a batch's grades, to other tools (nbgrader)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.context import course_from, die, shown
from grader.cli.platforms import (
    export_classroom_repo,
    export_gradescope_zip,
    export_prairielearn_questions,
)


def need_nbgrader() -> None:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        die("nbgrader is not installed: pip install -e '.[nbgrader]' in grade's checkout")


@click.command("nbgrader")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--assignment", default="exercises", show_default=True,
              help="nbgrader assignment name: source/ASSIGNMENT/<exercise-id>.ipynb.")
@click.pass_context
def export_nbgrader_course(ctx: click.Context, outdir: Path, assignment: str) -> None:
    """Write an nbgrader course folder: nbgrader_config.py and source/ notebooks.

    Each exercise becomes source/ASSIGNMENT/<exercise-id>.ipynb: the skeleton with
    the solution marked (### BEGIN SOLUTION), and one autograded hidden test per
    check, worth the check's points. Then, in OUTDIR: nbgrader generate_assignment
    ASSIGNMENT, and later nbgrader autograde ASSIGNMENT.
    """
    from grader.authoring.nbgrader_export import ExportError, export_nbgrader

    course = course_from(ctx)
    try:
        written = export_nbgrader(course, outdir, assignment)
    except ExportError as exc:
        die(str(exc))
    for path in written:
        click.echo(f"wrote {shown(path)}")


@click.command("nbgrader-grades")
@click.option("--db", required=True, help="nbgrader's gradebook: a sqlite file or a database URL.")
@click.option("--results", "results_path", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="grades.json written by grade batch.")
@click.option("--assignment", default="exercises", show_default=True,
              help="nbgrader assignment the grades belong to.")
def export_nbgrader_grades(db: str, results_path: Path, assignment: str) -> None:
    """Write grade batch's scores into nbgrader's gradebook, for formgrader.

    Each check becomes the auto score of the grade cell of the same name in the
    notebook named by the exercise id (as grade export nbgrader writes them).
    """
    from pydantic import TypeAdapter, ValidationError

    from grader.reports.nbgrader_grades import write_nbgrader_grades
    from grader.results import StudentResult

    need_nbgrader()
    try:
        results = TypeAdapter(list[StudentResult]).validate_json(results_path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        die(f"{results_path} is not a grades.json of grade batch ({where}: {first['msg']})")
    count = write_nbgrader_grades(db, assignment, results)
    students = f"{len(results)} student{'s' if len(results) != 1 else ''}"
    click.echo(f"wrote {count} grades of {students} into {db} "
               f"(assignment {assignment})")


@click.group("export")
def export() -> None:
    """Export the course or its grades to other tools (nbgrader, Gradescope, ...)."""


export.add_command(export_nbgrader_course)
export.add_command(export_nbgrader_grades)
export.add_command(export_gradescope_zip)
export.add_command(export_classroom_repo)
export.add_command(export_prairielearn_questions)
