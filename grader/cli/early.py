"""A learner's `grade EXERCISE [FILE]` looked at first, with `os` only: launch the zygote now.

The sandbox's zygote boots in a fresh interpreter, the longest single step of a
learner's run; every millisecond of imports before its launch is a millisecond of the
run. When the file will surely be graded (the same look as cli/skeleton.py's, from the
course cache's index), the zygote is launched here, before typing, pathlib, json or
click import; the sandbox the command then makes adopts it (sandbox/launch.py). This
decides nothing else: whatever it cannot answer at once is left to the usual path, and
a zygote that path does not use is closed unused.
"""

from __future__ import annotations

import gc
import os
import stat

from grader.cli.commands import COMMANDS
from grader.course.sidecar import course_file_here, planned_file
from grader.sandbox.asked import PORTABLE, SandboxError, requested_level


def learners_file(args: list[str]) -> bool:
    """Whether `args` may be a learner's `grade EXERCISE [FILE]`: one or two words,
    neither an option, the first not a command's name."""
    return 1 <= len(args) <= 2 and args[0] not in COMMANDS and not any(
        a.startswith("-") for a in args)


def launch_for(args: list[str]) -> None:
    """Launch the zygote when `args` are a learner's `grade EXERCISE [FILE]` whose file
    will surely go into a box; else nothing (the usual path says and does the rest)."""
    if not learners_file(args):
        return
    # One file graded and reported, then os._exit (grader.cli.leave): the collector's
    # ~13 collections of the imports' objects, which all live on, cost it 3 ms.
    gc.disable()
    try:
        level = requested_level()
    except SandboxError:  # said by the usual path
        return
    course_file = course_file_here() if level != PORTABLE else None
    planned = planned_file(course_file, args[0]) if course_file else None
    if planned is None:
        return
    learner_file, max_source_kb = planned
    path = args[1] if len(args) == 2 else learner_file
    data = raw_bytes(path, max_source_kb)
    if data is not None and surely_gradable(python_name(path), data, max_source_kb):
        from grader.sandbox.launch import launch_early  # a skeleton's report needs none

        launch_early(level)


def python_name(path: str) -> bool:
    """Whether `path`'s suffix is ".py", as pathlib says a suffix (".py" alone is none)."""
    name = os.path.basename(path.rstrip("/"))
    return name.endswith(".py") and len(name) > 3


def raw_bytes(path: str | os.PathLike[str], max_source_kb: int) -> bytes | None:
    """The raw bytes of `path` (up to one byte past the limit), for a cheap look before
    reading it as grading does; None unless it is a regular file that can be read."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a FIFO would block, a device never
            return None                                # end, a link lead elsewhere: read() says
        with open(path, "rb") as file:
            return file.read(max_source_kb * 1024 + 1)
    except OSError:
        return None


def surely_gradable(python: bool, data: bytes, max_source_kb: int) -> bool:
    """Whether a file of these raw bytes (`python`: named *.py) will go into a box, by a
    look that imports nothing: not empty, no NUL byte, within the size limit, and every
    `___` in a comment or a triple-quoted string (a finished file keeps the skeleton's
    comments and docstring). The pre-flight still decides: a sandbox started for a file
    it refuses is closed unused."""
    if b"\0" in data or not data.strip() or len(data) > max_source_kb * 1024:
        return False
    if b"___" not in data:
        return True
    return python and all(_not_code(data, at) for at in _blanks(data))


def _blanks(data: bytes) -> list[int]:
    """Where each `___` starts in `data`."""
    found, at = [], data.find(b"___")
    while at != -1:
        found.append(at)
        at = data.find(b"___", at + 3)
    return found


def _not_code(data: bytes, at: int) -> bool:
    """Whether the `___` at `at` is surely not code: after a `#` on its line, or inside
    a triple-quoted string (an odd number of them opened before it)."""
    before = data[:at]
    line = before[before.rfind(b"\n") + 1:]
    return b"#" in line or before.count(b'"""') % 2 == 1 or before.count(b"'''") % 2 == 1
