"""`grade merge OUT1 OUT2 ... --out OUTDIR`: join the shards of one class into one gradebook."""

from __future__ import annotations

from pathlib import Path

import click

from grader.batch.journal import Journal, JournalBusy
from grader.batch.merge import merge as merge_shards
from grader.batch.run import JOURNAL
from grader.batch.shard import ShardError
from grader.cli.batch import CANVAS_IDS
from grader.cli.context import die
from grader.reports.export import write_exports


@click.command("merge")
@click.argument("shards", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--out", "outdir", required=True, type=click.Path(path_type=Path),
              help="Folder for the whole class's gradebook, feedback, exports and report.")
@click.option("--canvas-id", type=click.Choice(sorted(CANVAS_IDS)), default="sis-login-id",
              show_default=True, help="The canvas.csv column the folder name goes in.")
def merge(shards: tuple[Path, ...], outdir: Path, canvas_id: str) -> None:
    """Join the OUTDIRs of `grade batch ... --shard I/N` (every shard of one class, graded
    with the same course and grade) into OUTDIR, as if the class had been graded in one run.

    Refuses shards cut or graded differently, students in two shards, unfinished
    shards, and names the shards that are missing.
    """
    if any(outdir.resolve() == shard.resolve() for shard in shards):
        die("--out must be a new folder, not one of the shards")
    try:
        merged = merge_shards(list(shards))
    except ShardError as exc:
        die(str(exc))
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        with Journal(outdir / JOURNAL) as journal:
            journal.compact(merged.entries)
    except JournalBusy as exc:
        die(str(exc))
    result = merged.result
    write_exports(outdir, result, canvas_id=CANVAS_IDS[canvas_id])
    click.echo(f"merged {len(shards)} shards: {len(result.students)} students x "
               f"{len(result.exercises)} exercises\n"
               f"wrote {outdir}/grades.csv, grades.json, canvas.csv, report.html, "
               "feedback/*.md, gradescope/*/results.json")
