"""The models of the progress file (.grade/progress.json): the single source of its format."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from grader.learner_text import bounded
from grader.models import Model

VERSION: Literal[1] = 1
FILE_CHARS = 500  # a file name from the course root: longer ones are cut where they are read


class HintLevel(Model):
    """How deep the hints of one check have gone, and for which code."""

    model_config = ConfigDict(extra="forbid")

    shown: int = Field(ge=1, description="how many of the check's hints have been shown")
    source: str = Field(description="sha256 of the file the last hint was shown for")


class ExerciseRecord(Model):
    """What the learner's gradings of one exercise left behind. Shown, never trusted."""

    model_config = ConfigDict(extra="forbid")

    best: float | None = Field(None, description="best full-run score (not -k runs)")
    last: float | None = Field(None, description="the last full run's score")
    max_score: float | None = None
    full_marks: bool = Field(False, description="some full run reached full marks")
    graded_at: datetime | None = None
    file: str | None = Field(None, description="the file last graded, from the course root")
    runs: int = 0
    hints: dict[str, HintLevel] = Field(default_factory=dict, description="by check name")

    @field_validator("file")
    @classmethod
    def _inert(cls, file: str | None) -> str | None:
        """The file is shown (`grade status`) and the progress file is the learner's to
        edit: no escape sequence or bidi override from it reaches a terminal."""
        return None if file is None else bounded(file, FILE_CHARS)


class Progress(Model):
    """The whole progress file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = VERSION
    exercises: dict[str, ExerciseRecord] = Field(default_factory=dict)

    def record(self, exercise_id: str) -> ExerciseRecord:
        """The exercise's record, created empty on first use."""
        return self.exercises.setdefault(exercise_id, ExerciseRecord())

    def done(self) -> set[str]:
        """The exercises that have reached full marks at least once."""
        return {i for i, r in self.exercises.items() if r.full_marks}
