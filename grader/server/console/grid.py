"""The class grid: learners x exercises, each cell the best, last and final score, how
late the last attempt was and how it failed, computed in a few queries (no result is
parsed: a class of 3,000 answers in well under a second)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from grader.course import Course as CourseModel
from grader.reports.reteach import KIND_NAMES, NOT_ATTEMPTED
from grader.results import ErrorKind, ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox
from grader.server import review
from grader.server.models import Adjustment, Course, Extension, Learner, Submission
from grader.server.views import course_of

STATES = ("not attempted", "could not run", "wrong", "full")
KIND = re.compile(r'"error_kind":\s*(null|"([a-z_]+)")')


@functools.lru_cache(maxsize=16)
def max_scores(root: str) -> dict[str, float]:
    """Each exercise's points (public and hidden checks), as the export counts them."""
    model = course_of(root)
    catalogue = Grader(model, Sandbox()).catalogue
    return {e.id: catalogue.max_score(e) for e in model.exercises}


@dataclass
class Cell:
    attempts: int = 0
    best: float | None = None
    last: float | None = None
    final: float | None = None  # after adjustments, extensions and the late policy
    last_id: str = ""
    last_at: datetime | None = None
    kind: str = ""
    late: bool = False
    adjusted: bool = False
    state: str = "not attempted"

    def json(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "best": self.best, "last": self.last,
                "final": self.final, "kind": self.kind, "late": self.late,
                "adjusted": self.adjusted, "state": self.state}


@dataclass
class Row:
    learner: Learner
    cells: dict[str, Cell] = field(default_factory=dict)


def _kind(text: str) -> ErrorKind | None:
    found = KIND.search(text)
    if found is None or found.group(2) is None:
        return None
    try:
        return ErrorKind(found.group(2))
    except ValueError:
        return ErrorKind.GRADER_FAULT


def _state(cell: Cell, kind: ErrorKind | None, full: float) -> str:
    if cell.attempts == 0 or kind in NOT_ATTEMPTED:
        return "not attempted"
    if kind is not None:
        return "could not run"
    return "full" if (cell.last or 0.0) >= full else "wrong"


def _cells(course: Course, model: CourseModel) -> dict[tuple[int, str], Cell]:
    found: dict[tuple[int, str], Cell] = {}
    rows = (Submission.objects.filter(course=course, state=Submission.GRADED, counts=True)
            .values_list("learner_id", "exercise", "score", "received_at", "id")
            .order_by("received_at", "id"))
    for learner, exercise, score, at, ident in rows.iterator(chunk_size=5000):
        cell = found.setdefault((learner, exercise), Cell())
        cell.attempts += 1
        cell.best = score if cell.best is None or (score or 0) > cell.best else cell.best
        cell.last, cell.last_id, cell.last_at = score, ident, at
    return found


def _final(model: CourseModel, course: Course, learner: Learner, cell: Cell) -> float | None:
    """The cell's final score by the batch's code (only cells a TA or a deadline moved:
    the others' final score is their last)."""
    job = Submission.objects.filter(id=cell.last_id).only("result").first()
    if job is None or cell.last_at is None:
        return cell.last
    result = ExerciseResult.model_validate_json(job.result)
    return review.settled(model, course, learner, result, cell.last_at).score


def grid(course: Course, section: str = "", state: str = "") -> tuple[list[str], list[Row]]:
    """(exercise ids, rows) of `course`, filtered by section and by a cell's state."""
    model = course_of(course.root)
    full = max_scores(course.root)
    cells = _cells(course, model)
    last = {c.last_id: c for c in cells.values()}
    texts = Submission.objects.filter(id__in=list(last)).values_list("id", "result")
    kinds = {ident: _kind(text) for ident, text in texts.iterator(chunk_size=2000)}
    adjusted = set(Adjustment.objects.filter(course=course).values_list("learner_id", "exercise"))
    extended = set(Extension.objects.filter(course=course).values_list("learner_id", "exercise"))
    learners = course.learners.order_by("section", "student")
    if section:
        learners = learners.filter(section=section)
    exercises = [e.id for e in model.exercises]
    deadlines = {e.id: model.deadline_for(e) for e in model.exercises}
    out = []
    for learner in learners:
        row = Row(learner)
        for exercise in exercises:
            cell = cells.get((learner.id, exercise), Cell())
            kind = kinds.get(cell.last_id)
            cell.kind = KIND_NAMES.get(kind, kind.value) if kind else ""
            cell.state = _state(cell, kind, full[exercise])
            deadline = deadlines[exercise]
            cell.late = bool(deadline and cell.last_at and cell.last_at > deadline
                             and (learner.id, exercise) not in extended
                             and (learner.id, "") not in extended)
            cell.adjusted = (learner.id, exercise) in adjusted
            cell.final = _final(model, course, learner, cell) if cell.adjusted or (
                cell.late and cell.attempts) else cell.last
            row.cells[exercise] = cell
        if not state or any(c.state == state for c in row.cells.values()):
            out.append(row)
    return exercises, out


def sections(course: Course) -> list[str]:
    return sorted(set(course.learners.values_list("section", flat=True)) - {""})


