"""After grading: make the scores final (deadlines, extensions, overrides), compare
with the last run into the same OUTDIR, and keep this run's state for the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.adjust import Adjuster, Extension, Override
from grader.batch.changes import STATE, compare, merged, read_state, run_state
from grader.batch.run import BatchRun
from grader.course import Course
from grader.reports.changes import changes_csv, changes_markdown
from grader.reports.files import write_atomic
from grader.results import Change, ClassResult


@dataclass
class Settled:
    """The class's final results, what moved since the last run (None on a first run)
    and what the TA should know."""

    result: ClassResult
    changes: list[Change] | None
    warnings: list[str] = field(default_factory=list)


def settle(course: Course, run: BatchRun, outdir: Path, *,
           extensions: list[Extension] | None = None,
           overrides: list[Override] | None = None) -> Settled:
    """Final scores for `run`; writes changes.csv, changes.md (when OUTDIR has a last
    run to compare with) and state.json."""
    adjuster = Adjuster(course, extensions or [], overrides or [])
    result = adjuster.apply(run.results, run.students)
    state = run_state(course, result, {t.key: t.submission for t in run.tasks})
    previous = read_state(outdir)
    changes = None
    if previous is not None:
        changes = compare(previous, state)
        write_atomic(outdir / "changes.csv", changes_csv(changes))
        write_atomic(outdir / "changes.md", changes_markdown(changes, len(state.rows)))
    write_atomic(outdir / STATE, merged(previous, state).model_dump_json(indent=1) + "\n")
    return Settled(result, changes, adjuster.warnings)
