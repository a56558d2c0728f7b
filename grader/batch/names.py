"""The batch's names (layouts, --only, default jobs, the journal's file), loaded without it.

`grade batch` forks its workers as soon as the course is loaded; its options and
that decision need these names before then, so they live apart from the modules
that do the work (and import pydantic).
"""

from __future__ import annotations

import os
from enum import Enum

JOURNAL = "journal.jsonl"  # every result of a batch, in its OUTDIR (batch/journal.py)
MANIFEST = "shard.json"  # what a shard graded, in its OUTDIR (batch/shard.py)


class Layout(str, Enum):
    """`grade batch --layout`: how SUBMISSIONS is organised."""

    FOLDERS = "folders"
    NBGRADER = "nbgrader"
    CANVAS = "canvas"
    MOODLE = "moodle"
    GRADESCOPE = "gradescope"
    CLASSROOM = "classroom"


class Only(str, Enum):
    """`grade batch --only`: grade again only these results."""

    ERRORS = "errors"  # could not be graded (any error, the grader's own included)
    TIMEOUTS = "timeouts"  # stopped at the time limit
    CHANGED = "changed"  # the file, checks, course or grader changed since


def default_jobs() -> int:
    """Worker processes when --jobs is not given: every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
