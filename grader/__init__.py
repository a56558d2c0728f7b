"""grade: auto-graded programming exercises, safe against hostile code.

This package is imported by the sandbox's zygote before it locks itself down, so
it must stay free of heavy imports: the version string, and `check`, which
imports what it needs only when a notebook calls it.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"


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
