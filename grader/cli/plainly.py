"""A file that is not the exercise's own, graded from the course cache's plan and
reported with neither click nor a model.

An author's test answer, a copy: graded, but no progress or hint depth is recorded, so
nothing needs the course's models (pydantic) or the command group (click). Called by
the exercise command, and before click loads for a bare `grade exercise-N FILE`
(cli/skeleton.py), whose sandbox was started from the file's bytes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from grader.cli.notes import weakened_note
from grader.cli.terminal import echo, shown
from grader.reports.ansi import style

if TYPE_CHECKING:
    from grader.course.plan import Planned
    from grader.runner.source import Source
    from grader.sandbox.client import SandboxBackend


def is_own_file(learner: Path, path: Path) -> bool:
    """Whether `path` is the exercise's own learner file (.py, or its .ipynb): only that
    records progress, so an author grading test answers changes no learner's state."""
    return path.resolve() in (learner.resolve(), learner.with_suffix(".ipynb").resolve())


def warn_weakened(sandbox: SandboxBackend) -> None:
    """Say once, on stderr, which isolation measures this machine would not allow."""
    note = weakened_note(str(sandbox.isolation.get("level", "")), sandbox.weakened)
    if note is not None:
        echo(note, err=True)


def not_own_note(path: Path, learner: Path) -> None:
    echo(style("note: ", fg="yellow") + f"{shown(path)} is not {shown(learner)}: graded, "
         "but no progress or hint depth is recorded", err=True)


def grade_plainly(plan: Planned, path: Path, source: Source, sandbox: SandboxBackend,
                  booting: bool, show_output: bool) -> int | None:
    """Grade `source`, a file that is not the exercise's own, from the course cache's
    `plan` with the runner's plain results, and print its report (each failed check's
    first hint, as the learner's loop words it): the models are never imported. The
    exit status: 0 at full marks, else 1; None when the checks do not import (the whole
    grader then says why). SandboxError when the sandbox cannot start."""
    from grader.checks import load_checks
    from grader.progress.hints import first_hints
    from grader.reports.text import render
    from grader.runner.grade import Sheet, grade_in_boxes

    try:
        checks = load_checks(plan.checks_file)
    except Exception:  # anything the author's module raises
        return None
    if booting:
        # The first request imports the frames' module; here the zygote, whose boot is
        # the longer one, has not said hello yet, so it costs the run nothing.
        import grader.sandbox.protocol  # noqa: F401

        sandbox.ready()
        warn_weakened(sandbox)
    result = first_hints(grade_in_boxes(sandbox, Sheet(plan.id, checks, plan.withheld),
                                        source, plan.limits, time.monotonic()))
    not_own_note(path, plan.learner_file)
    echo(render(result, plan.title, encoding=sys.stdout.encoding, show_output=show_output))
    return 0 if result.full_marks else 1
