"""`grade exercise-N [FILE]` looked at before click loads: a file with blanks left is
answered here, a file that will be graded gets its sandbox started here.

A learner's first run is of the skeleton, and the report of one needs only the file,
the course cache's plan and the checks' names (cli/unfinished.py): importing click and
building the command group would be most of its cost. A file that will go into a box
needs the sandbox's zygote, a fresh interpreter whose boot is the longest single step of
a learner's run: it was spawned as the command began when the same look at the file's
bytes said it will be graded (cli/early.py), and the sandbox made here adopts it, else
it starts here; it boots while click, the checks and the runner import (`take_started`).
Anything this does not answer outright (an option, a cold cache, a file without blanks,
an unknown level) goes on to the click group, which says and does everything as always.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.cli import early
from grader.cli.commands import COMMANDS
from grader.cli.exits import USAGE_ERROR
from grader.cli.terminal import echo
from grader.course.load import ConfigError, cached_plan, find_course
from grader.course.plan import Planned
from grader.kinds import ErrorKind
from grader.sandbox.asked import SandboxError, requested_level

if TYPE_CHECKING:
    from grader.runner.source import Source, SubmissionError
    from grader.sandbox.client import SandboxBackend

# The sandbox started for (the resolved) FILE by `skeleton_status`, until the exercise
# command takes it (`take_started`).
_started: dict[Path, SandboxBackend] = {}


def read_early(path: Path, max_source_kb: int) -> Source | None:
    """The learner's file, read once, as grading reads it; None if it cannot be read
    (grading then says why)."""
    from grader.runner.read import read
    from grader.runner.source import SubmissionError

    try:
        return read(path, max_source_kb)
    except SubmissionError:
        return None


def refusal(source: Source) -> SubmissionError | None:
    """Why the pre-flight refuses `source` (empty, NUL bytes, blanks left); None when it
    will go into a box. The grader pre-flights it again itself: this decides early
    whether a sandbox starts at all."""
    from grader.runner.source import SubmissionError, require_gradable

    try:
        require_gradable(source)
    except SubmissionError as exc:
        return exc
    return None


def surely_gradable(path: Path, data: bytes, max_source_kb: int) -> bool:
    """Whether a file of these raw bytes will go into a box (cli/early.py's look)."""
    return early.surely_gradable(path.suffix == ".py", data, max_source_kb)


def start_early(path: Path) -> None:
    """Start the sandbox that will grade `path`, to boot while the rest imports; a
    sandbox the exercise command then does not need is closed unused."""
    from grader.sandbox.levels import make_sandbox

    try:
        sandbox = make_sandbox()
    except SandboxError:  # said by the exercise command, which makes its own
        return
    sandbox.start_soon()
    _started[path.resolve()] = sandbox


def take_started(path: Path) -> SandboxBackend | None:
    """The sandbox `skeleton_status` started for `path` (booting), now the caller's to
    close; None if it started none."""
    return _started.pop(path.resolve(), None) if _started else None


def skeleton_status(args: list[str]) -> int | None:
    """Print the report of `grade EXERCISE [FILE]` and return 1 when FILE has blanks
    left; None (nothing printed) for everything else, the sandbox started when FILE will
    be graded."""
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
    data = early.raw_bytes(path, plan.max_source_kb)
    if data is None:
        return None
    if surely_gradable(path, data, plan.max_source_kb):
        start_early(path)  # before the reader and the runner import
        return copy_status(plan, path)
    if b"___" not in data:
        return None
    source = read_early(path, plan.max_source_kb)
    refused = None if source is None else refusal(source)
    if source is not None and refused is None:  # a blank in a string, say
        start_early(path)
        return copy_status(plan, path)
    if refused is None or refused.kind is not ErrorKind.BLANKS:
        return None
    from grader.cli.unfinished import unfinished_report

    report = unfinished_report(plan.id, plan.title, plan.checks_file, plan.withheld, refused,
                               sys.stdout.encoding)
    if report is None:
        return None
    echo(report)
    return 1


def copy_status(plan: Planned, path: Path) -> int | None:
    """Grade and report `path` when it is not the exercise's own file and will go into
    the sandbox started for it (cli/plainly.py), before click loads; its exit status, or
    None (nothing printed, the sandbox left for the exercise command) for the rest: the
    learner's own file (its progress needs the models), a file the pre-flight refuses,
    checks that do not import."""
    from grader.cli.plainly import grade_plainly, is_own_file

    if path.resolve() not in _started or is_own_file(plan.learner_file, path):
        return None
    source = read_early(path, plan.max_source_kb)
    if source is None or refusal(source) is not None:
        return None
    from grader.cli.terminal import plain_streams

    plain_streams()
    sandbox = _started[path.resolve()]
    try:
        status = grade_plainly(plan, path, source, sandbox, True, show_output=False)
    except SandboxError as exc:  # as the exercise command's die() says it
        from grader.reports.ansi import style

        echo(style("error: ", fg="red", bold=True) + f"the sandbox could not start: {exc}",
             err=True)
        status = USAGE_ERROR
    except BaseException:  # Ctrl-C, or a bug (said by grader.cli.run): the box goes too
        take_started(path)
        sandbox.close()
        raise
    if status is not None:  # reported: this process ends now (grader.cli.leave)
        take_started(path)
        sandbox.close_to_leave()
    return status
