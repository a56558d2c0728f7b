"""`grade serve`: run the course server; `roster`, `staff` and `export` manage it.

The server is the `serve` extra (Django, waitress, psycopg): imported only here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.context import course_file, die

if TYPE_CHECKING:
    from grader.server.models import Course

DATA_HELP = "the server's folder: database, uploads, tokens.csv (default: .grade-server in " \
            "the course folder, ignored by git)"
DB_HELP = "postgresql://USER:PASSWORD@HOST:PORT/NAME (default: SQLite in --data)"


def _data(ctx: click.Context, data: Path | None) -> Path:
    if data is not None:
        return data.resolve()
    folder = course_file(ctx).resolve().parent / ".grade-server"
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # tokens and uploads must never be committed
    return folder


def _open(ctx: click.Context, data: Path | None, db: str | None, slug: str | None
          ) -> tuple[Path, Course]:
    """Django set up on the database, migrations applied, the course registered."""
    try:
        from grader.server.settings import DatabaseUrlError, configure, migrate
    except ImportError:
        die("grade serve needs the server extra: pip install -e '.[serve]' in grade's checkout")
    folder = _data(ctx, data)
    try:
        configure(folder, db)
        migrate()
    except DatabaseUrlError as exc:
        die(str(exc))
    except Exception as exc:  # the database refused (no server, wrong password)
        die(f"the database could not be opened: {type(exc).__name__}: {exc}")
    from grader.server.run import register

    root = course_file(ctx).resolve().parent
    return folder, register(slug or root.name, root)


def _common(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
            click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP),
            click.option("--db", metavar="URL", help=DB_HELP),
            click.option("--slug", help="the course's name on the server (default: the "
                                        "course folder's name)")]):
        function = option(function)
    return function


@click.group(invoke_without_command=True)
@_common
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int,
              help="0 picks a free port (the URL is printed)")
@click.option("-j", "--jobs", type=int, default=None, help="grading workers (default: cores)")
@click.option("--dask", metavar="ADDRESS", help="grade on this Dask scheduler's workers")
@click.option("--lease", type=float, default=30.0, show_default=True,
              help="seconds before a job whose worker stopped answering is graded again")
@click.option("--hard-limit", type=float, default=300.0, show_default=True,
              help="seconds after which a job still grading is given up and requeued")
@click.option("--with-course", "others", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="also serve the course in this folder (repeatable); each course has its "
                   "own roster, staff and tokens")
@click.option("--allow-portable", is_flag=True,
              help="grade even where only the portable sandbox runs (it does not contain "
                   "hostile code)")
@click.pass_context
def serve(ctx: click.Context, data: Path | None, db: str | None, slug: str | None, host: str,
          port: int, jobs: int | None, dask: str | None, lease: float, hard_limit: float,
          others: tuple[Path, ...], allow_portable: bool) -> None:
    """Run the course server in the foreground (Ctrl-C stops it)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {**(ctx.obj or {}), "data": data, "db": db, "slug": slug}
        return
    from grader.batch.run import default_jobs
    from grader.sandbox.client import SandboxError, requested_level
    from grader.sandbox.levels import portable_here

    try:
        level = "portable" if portable_here() else requested_level()
    except SandboxError as exc:  # an unknown GRADE_SANDBOX
        die(f"the sandbox could not start: {exc}")
    click.echo(f"grade serve: sandbox level {level}")
    if level == "portable" and not dask and not allow_portable:
        die("only the portable sandbox runs here: hostile code would not be contained; "
            "serve from Linux, use --dask, or pass --allow-portable")
    folder, course = _open(ctx, data, db, slug)
    from grader.course import ConfigError
    from grader.server.run import Options, register
    from grader.server.run import serve as run

    courses = [course]
    for other in others:
        try:
            courses.append(register(other.resolve().name, other.resolve()))
        except ConfigError as exc:
            die(str(exc))
    run(Options(host, port, jobs or default_jobs(), dask, lease, hard_limit), courses, folder,
        click.echo)
    # Stopped: every result stored is committed and queued work waits in the database.
    # Leave now: at exit the interpreter would join the process pool's manager thread
    # and reap workers still dying, an unbounded wait a supervisor's stop timeout (and
    # a test's) runs into on a busy machine.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _given(ctx: click.Context, data: Path | None, db: str | None, slug: str | None
           ) -> tuple[Path, Course]:
    parent = ctx.parent.obj if ctx.parent and isinstance(ctx.parent.obj, dict) else {}
    return _open(ctx, data or parent.get("data"), db or parent.get("db"),
                 slug or parent.get("slug"))


@serve.command()
@click.argument("roster_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common
@click.pass_context
def roster(ctx: click.Context, roster_csv: Path, data: Path | None, db: str | None,
           slug: str | None) -> None:
    """Create or update the learners from ROSTER_CSV; new tokens go to DATA/tokens.csv."""
    from grader.batch.roster import read_roster
    from grader.batch.tables import TableError

    try:
        rows = read_roster(roster_csv)
    except TableError as exc:
        die(str(exc))
    folder, course = _given(ctx, data, db, slug)
    from grader.server.accounts import load_roster

    made, updated = load_roster(course, rows, folder / "tokens.csv")
    click.echo(f"{course.slug}: {made} learners added, {updated} updated; new tokens in "
               f"{folder / 'tokens.csv'}")


@serve.command()
@click.argument("name")
@click.option("--role", type=click.Choice(["instructor", "ta"]), required=True)
@click.option("--password-stdin", is_flag=True, required=True,
              help="read the password from standard input (never from the command line)")
@_common
@click.pass_context
def staff(ctx: click.Context, name: str, role: str, password_stdin: bool, data: Path | None,
          db: str | None, slug: str | None) -> None:
    """Create or update a staff account NAME with a role in this course."""
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        die("the password (from standard input) needs at least 8 characters")
    _, course = _given(ctx, data, db, slug)
    from grader.server.accounts import add_staff

    new = add_staff(course, name, role, password)
    click.echo(f"{course.slug}: {'added' if new else 'updated'} {role} {name}")


@serve.command("export")
@click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path),
              required=True)
@_common
@click.pass_context
def export_command(ctx: click.Context, outdir: Path, data: Path | None, db: str | None,
                   slug: str | None) -> None:
    """Write what grade batch writes (grades.csv, canvas.csv, ...) from the database."""
    _, course = _given(ctx, data, db, slug)
    from grader.server.console.exports import export  # with the console's adjustments

    written = export(course, outdir)
    click.echo(f"{course.slug}: wrote {len(written)} files into {outdir}")


@serve.command()
@click.option("--exercise", help="only this exercise's submissions (default: every exercise)")
@click.option("--by", required=True, help="who asks for the regrade (recorded in the ledger)")
@click.option("--why", required=True, help="why (recorded in the ledger)")
@_common
@click.pass_context
def regrade(ctx: click.Context, exercise: str | None, by: str, why: str, data: Path | None,
            db: str | None, slug: str | None) -> None:
    """Grade every graded submission again, in the background, behind learners' uploads
    (a running server picks them up; otherwise the next `grade serve` does)."""
    _, course = _given(ctx, data, db, slug)
    from grader.server import queue
    from grader.server.views import course_of

    if exercise is not None and course_of(course.root).exercise(exercise) is None:
        die(f"{course.slug} has no exercise {exercise!r}")
    count = queue.regrade(course.id, by, why, exercise)
    click.echo(f"{course.slug}: {count} submission{'s' * (count != 1)} queued for regrading "
               "(behind learners' uploads)")


@serve.command()
@click.option("--by", required=True, help="who publishes (recorded in the ledger)")
@_common
@click.pass_context
def publish(ctx: click.Context, by: str, data: Path | None, db: str | None,
            slug: str | None) -> None:
    """Publish the hidden checks' results: learners then see their whole score."""
    _, course = _given(ctx, data, db, slug)
    from grader.server.accounts import publish_hidden

    publish_hidden(course, by)
    click.echo(f"{course.slug}: hidden checks published")
