"""The learner's progress between runs: a local state file, deepening hints, status, next."""

from grader.progress.record import Recorder
from grader.progress.state import ExerciseRecord, HintLevel, Progress
from grader.progress.status import StatusReport, next_unfinished, status_report
from grader.progress.store import ProgressStore

__all__ = ["ExerciseRecord", "HintLevel", "Progress", "ProgressStore", "Recorder",
           "StatusReport", "next_unfinished", "status_report"]
