"""After grading: make the scores final (deadlines, extensions, overrides), compare
with the last run into the same OUTDIR, and keep this run's state for the next."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from grader.atomic import write_all_atomic
from grader.batch.adjust import Adjuster, Extension, Override, Timed
from grader.batch.changes import (
    STATE,
    Known,
    compare,
    edited,
    merged,
    read_state,
    run_state,
    state_parts,
)
from grader.batch.journal import Key
from grader.course import Course
from grader.reports.changes import changes_csv, changes_markdown
from grader.results import Change, ClassResult

if TYPE_CHECKING:  # imported with --submitted-at only (batch_run._times)
    from grader.batch.submitted import Times

RUNS = "changes"  # OUTDIR/changes/<UTC time>.md and .csv: every run's list, dated


@dataclass
class Settled:
    """The class's final results, what moved since the last run (None on a first run)
    and what the TA should know."""

    result: ClassResult
    changes: list[Change] | None
    warnings: list[str] = field(default_factory=list)
    edited: int = 0  # feedback files that differ from the last run's
    kept: bool = False  # nothing moved: changes.md is still the last run's that moved
    # student -> their feedback file's text, rendered to be hashed into state.json: the
    # exports write it as it is (`write_exports(feedback=...)`), not rendered again
    feedback: dict[str, str] = field(default_factory=dict)


def finalise_scores(course: Course, graded: ClassResult, students: Iterable[Timed],
                    files: dict[Key, str], outdir: Path, *,
                    extensions: list[Extension] | None = None,
                    overrides: list[Override] | None = None,
                    elsewhere: frozenset[str] = frozenset(),
                    times: Times | None = None, known: Known | None = None) -> Settled:
    """Final scores for the class `graded` (a run's, or the shards' that `grade merge`
    joined): `students` say when each file was handed in, `files` the hash of each
    (student, exercise)'s file. Writes changes.csv, changes.md (when OUTDIR has a
    last run to compare with) and state.json. `times` are the TA's --submitted-at
    rows. A shard's `elsewhere` are the students of the class that other shards settle
    (their rows are theirs to warn about).
    `known`: the feedback hashes of files written already (`changes.run_state`)."""
    adjuster = Adjuster(course, extensions or [], overrides or [], elsewhere, times)
    result = adjuster.apply(graded, students)
    texts: dict[str, str] = {}
    state = run_state(course, result, files, texts, known)
    previous = read_state(outdir)
    settled = Settled(result, None, adjuster.warnings, feedback=texts)
    if previous is not None:
        settled.changes = compare(previous, state)
        settled.edited = edited(previous, state)
        settled.kept = not (settled.changes or settled.edited) and (
            outdir / "changes.md").is_file()
        if not settled.kept:  # a run that moved nothing never hides the last one's list
            write_changes(outdir, settled.changes, len(state.rows), settled.edited)
    write_all_atomic([(outdir / STATE, state_parts(merged(previous, state)))])
    return settled


def write_changes(outdir: Path, changes: list[Change], compared: int, edited: int) -> None:
    """changes.md and changes.csv, and a dated copy of each under changes/ (one per
    run that moved something), so no run's list is lost to the next."""
    # The date is in the copies' names only: the same inputs give the same changes.md,
    # whether graded in one run or merged from shards.
    markdown = changes_markdown(changes, compared, edited=edited)
    table = changes_csv(changes)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
    write_all_atomic([(outdir / "changes.md", markdown), (outdir / "changes.csv", table),
                      (outdir / RUNS / f"{stamp}.md", markdown),
                      (outdir / RUNS / f"{stamp}.csv", table)])
