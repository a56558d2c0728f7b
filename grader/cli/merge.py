"""`grade merge OUT1 OUT2 ... --out OUTDIR`: join the shards of one class into one gradebook."""

from __future__ import annotations

from pathlib import Path

import click

from grader.batch.journal import Journal, JournalBusy
from grader.batch.merge import merge as merge_shards
from grader.batch.names import JOURNAL
from grader.batch.regrade import finalise_scores
from grader.batch.shard import ShardError
from grader.cli.batch_options import (
    CANVAS_ID_OPTION,
    EXTENSIONS_OPTION,
    OVERRIDES_OPTION,
    canvas_column,
)
from grader.cli.batch_run import moved, tables, unmatched_warning, warn
from grader.cli.context import course_from, die
from grader.reports.export import summary as exports_summary
from grader.reports.export import write_exports


@click.command("merge")
@click.argument("shards", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--out", "outdir", required=True, type=click.Path(path_type=Path),
              help="Folder for the whole class's gradebook, feedback, exports and report.")
@EXTENSIONS_OPTION
@OVERRIDES_OPTION
@CANVAS_ID_OPTION
@click.pass_context
def merge(ctx: click.Context, shards: tuple[Path, ...], outdir: Path,
          extensions: Path | None, overrides: Path | None, canvas_id: str | None) -> None:
    """Join the OUTDIRs of `grade batch ... --shard I/N` (every shard of one class, graded
    with the same course and grade) into OUTDIR, as if the class had been graded in one
    run: run it from the course the shards were graded with, which settles the scores
    (deadlines, extensions.csv, overrides.csv) as `grade batch` does.

    Refuses shards cut or graded differently, students in two shards, unfinished
    shards, and names the shards that are missing.
    """
    course = course_from(ctx)
    if any(outdir.resolve() == shard.resolve() for shard in shards):
        die("--out must be a new folder, not one of the shards")
    try:
        merged = merge_shards(list(shards), course)
    except ShardError as exc:
        die(str(exc))
    _, extension_rows, override_rows = tables(course, None, extensions, overrides)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        with Journal(outdir / JOURNAL) as journal:  # held until every export is written
            journal.compact(merged.entries)
            settled = finalise_scores(course, merged.result, merged.handed, merged.files, outdir,
                             extensions=extension_rows, overrides=override_rows)
            write_exports(outdir, settled.result,
                          canvas_id=canvas_column(canvas_id, merged.layout))
    except JournalBusy as exc:
        die(str(exc))
    result = settled.result
    on_roster = any(person.on_roster for person in result.people.values())  # --roster given
    warn([*merged.warnings, *settled.warnings, *unmatched_warning(result, on_roster)])
    click.echo("\n".join([f"merged {len(shards)} shards: {len(result.students)} students x "
                          f"{len(result.exercises)} exercises",
                          f"wrote {outdir}/{exports_summary()}", *moved(settled, outdir)]))
