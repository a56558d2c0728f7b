"""What grading produces: the pydantic models behind every report and export.

`ExerciseResult` is the `--json` contract (docs/contracts.md); `StudentResult` is
one row of a batch. Exporters and renderers read these and nothing else. Every
outcome is typed (`ErrorKind`, `CheckStatus`) beside the learner's sentence: code
decides on the kind, people read the sentence.
"""

# No `from __future__ import annotations`: each field annotation given as text is compiled
# and evaluated by pydantic as the class is made (~0.1 ms a field, before a batch forks).
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from grader import learner_text as lt
from grader.course.model import Withheld

# The kinds are the contract's too; they live apart so that pre-flighting needs no pydantic.
from grader.kinds import NO_SUBMISSION as NO_SUBMISSION
from grader.kinds import CheckStatus as CheckStatus
from grader.kinds import ErrorKind as ErrorKind
from grader.kinds import Outcome
from grader.models import Model

# The --json contract's version (as exercism's results.json): 1 had no kinds; 2 added
# `error_kind`, `error_line`, `error_cell`, each check's `status`, and this field.
CONTRACT_VERSION = 2


def _bounded(limit: int) -> AfterValidator:
    return AfterValidator(lambda text: lt.bounded(text, limit))


# Text that may quote learner code: capped and inert in every result (learner_text.py),
# so every report, export and journal line is bounded, whatever a submission does.
Name = Annotated[str, _bounded(lt.NAME_CHARS)]
Message = Annotated[str, _bounded(lt.ERROR_CHARS)]
Hint = Annotated[str, _bounded(lt.HINT_CHARS)]
Detail = Annotated[str, _bounded(lt.DETAIL_CHARS)]
Output = Annotated[str, _bounded(lt.OUTPUT_CHARS)]
class WrongAnswer(Model):
    """What a check saw when it failed an answer, as data a class report can count.

    `observed` is the first half of the check's `fail(observed, expected)`; a
    frequency check also names the outcome furthest from its share.
    """

    observed: Message
    outcome: Name | None = Field(None, description="frequency checks: the outcome drawn "
                                 "furthest from its expected share")
    expected_share: float | None = None
    observed_share: float | None = None

    @property
    def overdrawn(self) -> bool | None:
        """True if `outcome` came up too often, False too rarely, None if not a frequency."""
        if self.outcome is None or self.expected_share is None or self.observed_share is None:
            return None
        return self.observed_share > self.expected_share


class CaseResult(Model):
    """One case of a check with cases: each earns its share of the check's points."""

    name: Name = Field(description="the case as the check labels it")
    passed: bool
    message: Message


class CheckResult(Model):
    """One check's verdict, as a learner sees it."""

    name: Name
    passed: bool
    score: float
    max_score: float
    message: Message
    hint: Hint | None = None
    # Every hint of the check, nudge first; not exported: only the learner's loop picks one.
    hints: list[str] = Field(default_factory=list, exclude=True)
    detail: Detail | None = Field(None, description="e.g. a text histogram, shown verbatim")
    status: CheckStatus = Field(description="how the check ended; `passed` iff passed")
    visibility: Literal["public", "hidden"] = Field(
        "public", description="hidden: a check learners' releases leave out")
    wrong: WrongAnswer | None = Field(None, description="what the check saw, when it failed "
                                      "the answer (status failed, from fail())")
    cases: list[CaseResult] | None = Field(None, description="only for a check with cases: "
                                           "each case's verdict (score: the share that "
                                           "passed)")

    @model_serializer(mode="wrap")
    def _cases_only_when_there_are(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Checks without cases serialise as before `cases` existed: the contract only gains."""
        data = handler(self)
        if isinstance(data, dict) and data.get("cases", ()) is None:
            del data["cases"]
        return data

    @model_validator(mode="before")
    @classmethod
    def _status_of_version_1(cls, data: Any) -> Any:
        """Results written before `status` existed (contract 1) read as passed or failed."""
        if isinstance(data, dict) and "status" not in data and "passed" in data:
            data = {**data, "status": CheckStatus.PASSED if data["passed"]
                    else CheckStatus.FAILED}
        return data


class Adjustment(Model):
    """How a graded (raw) score became the final one in a batch, with every reason:
    a late penalty, a TA's override, an extension. Recomputed on every run."""

    raw: float = Field(description="the score the checks gave")
    override: float = Field(0.0, description="points a TA's overrides added (or took)")
    penalty: float = Field(0.0, ge=0, description="points taken for lateness")
    final: float
    submitted_at: datetime | None = None
    deadline: datetime | None = Field(None, description="the deadline that applied")
    reasons: list[str] = Field(default_factory=list)


class ExerciseResult(Model, Outcome):
    """One submission of one exercise. `error` is set when it could not be graded."""

    exercise: str
    score: float
    max_score: float
    error: Message | None
    checks: list[CheckResult]
    output: Output = Field("", description="what the learner's code printed (capped)")
    seconds: float = Field(0.0, description="wall time spent grading")
    error_kind: ErrorKind | None = Field(None, description="why it could not be graded; "
                                         "set exactly when `error` is")
    error_line: int | None = Field(None, description="the line the error is about: of the "
                                   "file, or of `error_cell` in a notebook")
    error_cell: int | None = Field(None, description="the code cell (1-based) of a notebook")
    version: int = Field(CONTRACT_VERSION, description="the --json contract's version")
    adjustment: Adjustment | None = Field(
        None, exclude_if=lambda value: value is None,
        description="in a batch with deadlines or overrides: raw -> final, and why "
        "(left out when there is none, so `grade exercise-N --json` does not change)")
    withheld: Withheld | None = Field(
        None, description="in a learner's release: the hidden checks not run here")


class StudentResult(Model):
    """One student's results across the course's exercises, in course order."""

    student: str
    exercises: list[ExerciseResult]

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)


class ExerciseInfo(Model):
    """An exercise as a class report names it."""

    id: str
    title: str
    max_score: float


class Skipped(Model):
    """A folder of a batch that was not graded, and why (shown to the TA)."""

    name: str = Field(description="the folder name; unprintable characters as \\n, \\x07, ...")
    reason: str


class Person(Model):
    """Who a student is, from the roster or the LMS download: the exports' id columns."""

    name: str = ""
    email: str = ""
    sis_id: str = ""
    sis_login: str = ""
    section: str = ""
    on_roster: bool = True
class WorkerInfo(Model):
    """Where submissions ran: one grading worker and the isolation its sandbox had."""

    worker: str = Field(description="a local worker process, or the Dask worker's address")
    host: str
    level: str = Field(description="the isolation level in effect: full, no-namespaces, plain")
    missing: list[str] = Field(default_factory=list,
                               description="isolation measures this worker could not apply")


class WorkerUse(Model):
    """A worker and how many of the class's submissions it graded."""

    worker: WorkerInfo
    graded: int


class ClassResult(Model):
    """A whole batch: every student's results, plus what was skipped or escaped.

    `notes` maps a student id to sentences about that id (e.g. how a CSV writes it).
    """

    course: str
    exercises: list[ExerciseInfo]
    students: list[StudentResult]
    skipped: list[Skipped] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    not_on_roster: list[str] = Field(default_factory=list, description="graded all the same")
    workers: list[WorkerUse] = Field(default_factory=list, description="who graded what")

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)


class Change(Model):
    """One line of changes.csv: a score that moved. `check` is empty for the
    exercise's final score; `old` or `new` is None for a result that appeared or
    went away."""

    student: str
    exercise: str
    check: str
    old: float | None
    new: float | None
    why: str
