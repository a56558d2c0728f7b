"""Outcomes as types: why a submission could not be graded, and how each check ended.

The `--json` contract's kinds (docs/contracts.md), in a module of their own so that
reading and pre-flighting a file (grader.runner.read) need not import the result
models: a learner's command pre-flights the file before pydantic loads.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Protocol

NO_SUBMISSION = "no submission"  # the error sentence of a student's missing file
NOT_RUN = "not run"  # the message of each check of a submission that could not be graded


class ErrorKind(str, Enum):
    """Why a submission could not be graded at all (its score is then 0)."""

    MISSING = "missing"            # no file was handed in
    UNREADABLE = "unreadable"      # not a regular file, a symbolic link, or unreadable
    AMBIGUOUS = "ambiguous"        # two files could be the submission
    TOO_LARGE = "too_large"        # over the course's max_source_kb
    ENCODING = "encoding"          # not UTF-8 text
    EMPTY = "empty"                # nothing but whitespace (or a notebook without code)
    BINARY = "binary"              # NUL bytes: not a text file
    NOT_NOTEBOOK = "not_notebook"  # an .ipynb that is not a notebook
    BLANKS = "blanks"              # ___ blanks still standing
    SYNTAX = "syntax"              # Python cannot compile it
    RAISED = "raised"              # an exception while the file loaded
    EXITED = "exited"              # sys.exit() or os._exit() while loading or checking
    TIMEOUT = "timeout"            # out of wall-clock or CPU time
    MEMORY = "memory"              # out of memory
    RECURSION = "recursion"        # recursed too deeply
    FORBIDDEN = "forbidden"        # a process, file, signal or socket the sandbox refuses
    DISK = "disk"                  # wrote past the box's disk (bytes, files) or largest file
    CRASHED = "crashed"            # the interpreter died (segfault, a killed box)
    INTERFERENCE = "interference"  # wrote on or broke the grader's channel
    GRADER_FAULT = "grader_fault"  # the grader itself failed: nothing was counted


class CheckStatus(str, Enum):
    """How one check ended. Only `passed` scores."""

    PASSED = "passed"
    FAILED = "failed"    # the check's verdict: the answer is wrong (fail(), learner errors)
    ERRORED = "errored"  # the check itself raised (a bug in it, or an unforeseen answer)
    SKIPPED = "skipped"  # pytest.skip() in the check
    NOT_RUN = "not_run"  # the submission could not be graded (see the exercise's error)


class Hidden(Protocol):
    """The hidden checks a learner's release leaves out (course.Withheld, plan.Hidden)."""

    @property
    def checks(self) -> int: ...
    @property
    def points(self) -> float: ...


class Outcome:
    """What a result's fields say, read one way by the contract's `ExerciseResult` and by
    the runner's plain `Graded` (runner/verdicts.py)."""

    if TYPE_CHECKING:  # declared by each result (pydantic fields, dataclass fields)
        score: float
        max_score: float
        error: str | None
        error_kind: ErrorKind | None
        withheld: Hidden | None

    @property
    def grader_fault(self) -> bool:
        """The grader, not the submission, failed: the score says nothing about the work."""
        return self.error_kind is ErrorKind.GRADER_FAULT

    @property
    def submitted(self) -> bool:
        """A file was handed in (it may still have failed to load)."""
        return self.error_kind is not ErrorKind.MISSING

    @property
    def full_marks(self) -> bool:
        return self.error is None and self.score >= self.max_score

    @property
    def final_max_score(self) -> float:
        """The points the exercise is worth once hidden checks run too."""
        return self.max_score + (self.withheld.points if self.withheld else 0.0)
