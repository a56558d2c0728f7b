"""The learner's progress between runs: a local state file, deepening hints, status, next.

The models (pydantic) load on first use (PEP 562): a learner's run on another file than
the exercise's own takes only its first hints from here (hints.first_hints).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.progress.record import Recorder
    from grader.progress.state import ExerciseRecord, HintLevel, Progress
    from grader.progress.status import StatusReport, next_unfinished, status_report
    from grader.progress.store import ProgressStore

__all__ = ["ExerciseRecord", "HintLevel", "Progress", "ProgressStore", "Recorder",
           "StatusReport", "next_unfinished", "status_report"]
_LATER = {"Recorder": "record", "ExerciseRecord": "state", "HintLevel": "state",
          "Progress": "state", "StatusReport": "status", "next_unfinished": "status",
          "status_report": "status", "ProgressStore": "store"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(f"grader.progress.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
