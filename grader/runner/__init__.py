"""Grading one submission: read it into a `Source`, preflight, load it through a channel,
run its checks (pipeline.py); `Grader` does all of it for a course.

Reading and pre-flighting load at once; the pipeline and `Grader` (checks, result
models, pydantic) on first use (PEP 562): a learner's command pre-flights the file and
starts the sandbox before those import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.runner.read import read
from grader.runner.source import Source, SubmissionError, describe_blanks, find_blanks

if TYPE_CHECKING:
    from grader.runner.grade import Catalogue, ChecksError, Grader, box_limits
    from grader.runner.pipeline import Failure, judge, load, preflight, run_checks

__all__ = ["Catalogue", "ChecksError", "Failure", "Grader", "Source", "SubmissionError",
           "box_limits", "describe_blanks", "find_blanks", "judge", "load", "preflight", "read",
           "run_checks"]
_LATER = {"Catalogue": "grade", "ChecksError": "grade", "Grader": "grade",
          "box_limits": "grade", "Failure": "pipeline", "preflight": "pipeline",
          "load": "pipeline", "judge": "pipeline", "run_checks": "pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(f"grader.runner.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
