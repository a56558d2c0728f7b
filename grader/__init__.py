"""grade: auto-graded programming exercises, safe against hostile code.

This package is imported by the sandbox's zygote before it locks itself down, so
it must stay free of heavy imports: the version string, `check`, which imports
what it needs only when a notebook calls it, and (in a Jupyter kernel only) a
`post_run_cell` hook noting how each run ended, which imports nothing.
"""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"


# In a Jupyter kernel: execution count -> (text, cell id, failed) of each run since
# `import grader`, as IPython reported it (grader.notebooks.history reads it).
kernel_runs: dict[int, tuple[str, str | None, bool]] = {}


def _record(result: Any) -> None:
    info = result.info
    if info is not None and info.store_history and result.execution_count is not None:
        kernel_runs[result.execution_count] = (info.raw_cell, getattr(info, "cell_id", None),
                                               not result.success)


def watch_kernel() -> None:
    """In a Jupyter kernel, record how each run ends from now on: `check` grades each
    cell's last run and must know which runs raised (grader.runner.inputs). Once."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and _record not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _record)


def check(exercise: str, course: str | None = None) -> None:
    """In Jupyter: grade the code this kernel has run as `exercise`, and show the report.

    `course` is the course.yaml (or its folder), found from the notebook's folder
    when not given. Outside a Jupyter kernel, inside a box grading the notebook
    included, it does nothing: in a terminal, run `grade exercise-1`.
    """
    if "ipykernel" not in sys.modules:
        return
    from grader.cli.jupyter import check as check_in_kernel

    check_in_kernel(exercise, course)


watch_kernel()
