"""`grade notebooks`: write a Jupyter notebook skeleton next to each `.py` skeleton."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.context import course_from


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@click.command("notebooks")
@click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: the course's exercises/ folder).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any notebook is missing or out of date.")
@click.pass_context
def notebooks(ctx: click.Context, outdir: Path | None, check: bool) -> None:
    """Write exercises/<stem>.ipynb for every exercise, from its .py skeleton.

    Each notebook starts with the task (the skeleton's docstring) followed by the
    skeleton's code, split into cells, ___ blanks included. Learners grade it with
    `grade exercise-1 exercises/<stem>.ipynb`.
    """
    import tempfile

    from grader.notebooks.build import write_notebooks

    course = course_from(ctx)
    target = outdir if outdir is not None else course.root / course.exercises_dir
    if not check:
        for path in write_notebooks(course, target):
            click.echo(f"wrote {_shown(path)}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        stale = [target / fresh.name for fresh in write_notebooks(course, Path(scratch))
                 if not (target / fresh.name).is_file()
                 or (target / fresh.name).read_bytes() != fresh.read_bytes()]
    for path in stale:
        click.echo(f"out of date: {_shown(path)} (run: grade notebooks)")
    if stale:
        sys.exit(1)
    click.echo("notebooks are up to date")
