"""`grade exercise-N [FILE]` on a file with blanks left, answered before click loads.

A learner's first run is of the skeleton, and the report of one needs only the file,
the course cache's plan and the checks' names (cli/unfinished.py): importing click and
building the command group would be most of its cost. Anything this does not answer
outright (an option, a cold cache, a file without blanks, an unknown level) goes on to
the click group, which says and does everything as always.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from grader.cli.commands import COMMANDS
from grader.course.load import ConfigError, cached_plan, find_course
from grader.course.plan import Planned
from grader.kinds import ErrorKind
from grader.runner.read import read
from grader.runner.source import Source, SubmissionError, require_gradable
from grader.sandbox.asked import SandboxError, requested_level


def read_early(path: Path, max_source_kb: int) -> Source | None:
    """The learner's file, read once, as grading reads it; None if it cannot be read
    (grading then says why)."""
    try:
        return read(path, max_source_kb)
    except SubmissionError:
        return None


def refusal(source: Source) -> SubmissionError | None:
    """Why the pre-flight refuses `source` (empty, NUL bytes, blanks left); None when it
    will go into a box. The grader pre-flights it again itself: this decides early
    whether a sandbox starts at all."""
    try:
        require_gradable(source)
    except SubmissionError as exc:
        return exc
    return None


def blanks_in(path: Path, max_source_kb: int) -> bool:
    """Whether the raw bytes of `path` hold a blank at all: a cheap look before reading
    it as grading does, so a finished file pays next to nothing here."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):  # a FIFO would block, a device never
            return False                                # end, a link lead elsewhere: read() says
        with path.open("rb") as file:
            return b"___" in file.read(max_source_kb * 1024 + 1)
    except OSError:
        return False


def skeleton_status(args: list[str]) -> int | None:
    """Print the report of `grade EXERCISE [FILE]` and return 1 when FILE has blanks
    left; None (nothing printed) for everything else."""
    if not 1 <= len(args) <= 2 or args[0] in COMMANDS or any(a.startswith("-") for a in args):
        return None
    try:
        requested_level()  # a mistyped GRADE_SANDBOX is said by the full path
        course_file = find_course()
    except (SandboxError, ConfigError):  # said by the full path too
        return None
    plan = Planned.parse(args[0], (cached_plan(course_file) or {}).get(args[0]),
                         course_file.resolve().parent)
    if plan is None:
        return None
    path = Path(args[1]) if len(args) == 2 else plan.learner_file
    if not blanks_in(path, plan.max_source_kb):
        return None
    source = read_early(path, plan.max_source_kb)
    refused = None if source is None else refusal(source)
    if refused is None or refused.kind is not ErrorKind.BLANKS:
        return None
    from grader.cli.unfinished import unfinished_report

    report = unfinished_report(plan.id, plan.title, plan.checks_file, plan.withheld, refused,
                               sys.stdout.encoding)
    if report is None:
        return None
    echo(report)
    return 1


def echo(text: str) -> None:
    """`text` as `click.echo` prints it: styled only on a terminal, never with NO_COLOR."""
    from grader.reports.ansi import unstyle

    styled = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write((text if styled else unstyle(text)) + "\n")
    sys.stdout.flush()
