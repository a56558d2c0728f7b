"""`grade similarity SUBMISSIONS --out DIR`: which submissions share code, side by side."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.context import course_from, die, exercises_named
from grader.similarity.compare import (
    DEFAULT_THRESHOLD,
    SimilarityError,
    SimilarityReport,
    compare_class,
)
from grader.similarity.html import INDEX, write_similarity


def summary(report: SimilarityReport) -> list[str]:
    """One line per exercise, naming the pairs at or above the threshold (at most three)."""
    lines = []
    for result in report.exercises:
        flagged = [p for p in result.pairs if p.similarity >= report.threshold]
        named = ", ".join(f"{p.a.student} ~ {p.b.student} ({100 * p.similarity:.0f}%)"
                          for p in flagged[:3]) + (", ..." if len(flagged) > 3 else "")
        lines.append(f"{result.exercise}: {result.files} files, {result.compared} pairs "
                     f"compared, {len(flagged)} at or above {100 * report.threshold:.0f}%"
                     + (f": {named}" if named else ""))
    return lines


def compare_submissions(ctx: click.Context, submissions: Path, exercise_ids: tuple[str, ...],
                        references: Path | None = None,
                        threshold: float = DEFAULT_THRESHOLD,
                        exclude: Path | None = None) -> SimilarityReport:
    """Compare (exit 2 with why if it cannot run); `exclude` is a folder that is no student."""
    course = course_from(ctx)
    try:
        return compare_class(course, submissions, exercises=exercises_named(
            course, exercise_ids), references=references, threshold=threshold,
            exclude=exclude)
    except SimilarityError as exc:
        die(str(exc))


def write_similarity_report(outdir: Path, report: SimilarityReport) -> None:
    """Write the report into `outdir` and print the summary."""
    write_similarity(outdir, report)
    click.echo("\n".join(summary(report)))
    click.echo(f"wrote {outdir / INDEX} (and similarity/*.html, similarity.json) "
               f"in {report.seconds:.1f} s; nothing left this machine")


@click.command("similarity")
@click.argument("submissions", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--out", "outdir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for similarity.html, similarity/*.html and similarity.json.")
@click.option("--exercise", "exercise_ids", multiple=True, metavar="ID",
              help="Compare only this exercise (repeat for several).")
@click.option("--reference", "references", default=None, metavar="PAST_DIR",
              type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="A past term's submissions, same layout: compared with this term's "
                   "files, never with each other.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=DEFAULT_THRESHOLD,
              show_default=True, help="Flag pairs where this share of a file is in the other.")
@click.pass_context
def similarity(ctx: click.Context, submissions: Path, outdir: Path,
               exercise_ids: tuple[str, ...], references: Path | None,
               threshold: float) -> None:
    """Find submissions that share code, offline: pairs ranked, each side by side.

    \b
    SUBMISSIONS holds one folder per student, as for `grade batch`. Variable
    names, comments and layout are ignored, and so is code any skeleton of the
    course hands out. Uses copydetect (pip install -e '.[similarity]'); no code
    leaves this machine.
    """
    report = compare_submissions(ctx, submissions, exercise_ids, references, threshold,
                                 exclude=outdir)
    write_similarity_report(outdir, report)
