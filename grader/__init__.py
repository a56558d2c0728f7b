"""grade: auto-graded programming exercises, safe against hostile code.

This package is imported by the sandbox's zygote before it locks itself down, so
it must stay free of heavy imports: the version string, `check`, which imports
what it needs only when a notebook calls it, and (in a Jupyter kernel only) a
`post_run_cell` hook noting how each run ended, which imports nothing.
Each lives in a module of its own (`version`, `jupyter`, `kernel_log`), which no
other module reaches back through this one: no import cycle, lazy imports included.
"""

from __future__ import annotations

import sys

from grader.kernel_log import kernel_runs, watch_kernel
from grader.version import __version__

__all__ = ["__version__", "check", "kernel_runs", "watch_kernel"]


def check(exercise: str, course: str | None = None) -> None:
    """In Jupyter: grade the code this kernel has run as `exercise`, and show the report.

    `course` is the course.yaml (or its folder), found from the notebook's folder
    when not given. Outside a Jupyter kernel, inside a box grading the notebook
    included, it does nothing: in a terminal, run `grade exercise-1`.
    """
    if "ipykernel" not in sys.modules:
        return
    from grader.jupyter import check as check_in_kernel

    check_in_kernel(exercise, course)


watch_kernel()
