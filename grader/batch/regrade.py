"""After grading: make the scores final (deadlines, extensions, overrides), compare
with the last run into the same OUTDIR, and keep this run's state for the next."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.atomic import write_atomic
from grader.batch.adjust import Adjuster, Extension, Override, Timed
from grader.batch.changes import STATE, compare, merged, read_state, run_state
from grader.batch.journal import Key
from grader.batch.submitted import Times
from grader.course import Course
from grader.reports.changes import changes_csv, changes_markdown
from grader.results import Change, ClassResult


@dataclass
class Settled:
    """The class's final results, what moved since the last run (None on a first run)
    and what the TA should know."""

    result: ClassResult
    changes: list[Change] | None
    warnings: list[str] = field(default_factory=list)


def settle(course: Course, graded: ClassResult, students: Iterable[Timed],
           files: dict[Key, str], outdir: Path, *, extensions: list[Extension] | None = None,
           overrides: list[Override] | None = None, elsewhere: frozenset[str] = frozenset(),
           times: Times | None = None) -> Settled:
    """Final scores for the class `graded` (a run's, or the shards' that `grade merge`
    joined): `students` say when each file was handed in, `files` the hash of each
    (student, exercise)'s file. Writes changes.csv, changes.md (when OUTDIR has a
    last run to compare with) and state.json. `times` are the TA's --submitted-at
rows. A shard's `elsewhere` are the students
    of the class that other shards settle (their rows are theirs to warn about)."""
    adjuster = Adjuster(course, extensions or [], overrides or [], elsewhere, times)
    result = adjuster.apply(graded, students)
    state = run_state(course, result, files)
    previous = read_state(outdir)
    changes = None
    if previous is not None:
        changes = compare(previous, state)
        write_atomic(outdir / "changes.csv", changes_csv(changes))
        write_atomic(outdir / "changes.md", changes_markdown(changes, len(state.rows)))
    write_atomic(outdir / STATE, merged(previous, state).model_dump_json(indent=1) + "\n")
    return Settled(result, changes, adjuster.warnings)
