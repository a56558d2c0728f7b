"""The class grid: learners x exercises, each cell the best, last and final score, how
late the last attempt was and how it failed, computed in a few queries (no result is
parsed: a class of 3,000 answers in well under a second)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grader.course import Course as CourseModel
from grader.reports.reteach import KIND_NAMES, NOT_ATTEMPTED
from grader.results import ErrorKind, ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox
from grader.server import facts, review
from grader.server.models import (
    Adjustment,
    Course,
    Extension,
    Learner,
    RubricMark,
    Submission,
)
from grader.server.views import course_of

STATES = ("not attempted", "could not run", "wrong", "full")


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
    counted_id: str = ""  # the attempt that counts (course.yaml's `counts`: last or best)
    counted: float | None = None
    counted_late: bool = False
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


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def cell_html(cell: Cell, href: str, exercise: str) -> str:
    """One cell as the grid shows it, every text escaped (built here: Django's template
    engine takes seconds for a class of thousands of cells)."""
    if not cell.attempts:
        text = '<span class="none">not attempted</span>'
    else:
        text = _points(cell.last)
        if cell.final != cell.last:
            text += f' → <strong class="final">{_points(cell.final)}</strong>'
        text += f' <span class="best">(best {_points(cell.best)}, {cell.attempts}×)</span>'
        if cell.kind:
            text += f' <span class="kind">{escape(cell.kind)}</span>'
        if cell.late:
            text += ' <span class="late">late</span>'
        if cell.adjusted:
            text += ' <span class="adj">adjusted</span>'
    return (f'<td class="cell {cell.state.replace(" ", "-")}" data-exercise="{escape(exercise)}">'
            f'<a href="{escape(href)}" tabindex="-1">{text}</a></td>')


def row_html(row: Row, slug: str, exercises: list[str], blind: bool) -> SafeString:
    learner = row.learner
    if blind:
        who = f"learner {learner.id}"
    else:
        who = escape(learner.student) + (f' <span class="name">{escape(learner.name)}</span>'
                                         if learner.name else "")
    cells = "".join(cell_html(row.cells[e], f"/console/{slug}/learner/{learner.id}/"
                              f"?exercise={e}", e) for e in exercises)
    return mark_safe(f'<tr data-learner="{learner.id}"><th scope="row">{who}</th>'
                     f"<td>{escape(learner.section)}</td>{cells}</tr>")


def _kind(text: str) -> ErrorKind | None:
    if not text:
        return None
    try:
        return ErrorKind(text)
    except ValueError:
        return ErrorKind.GRADER_FAULT


def _state(cell: Cell, kind: ErrorKind | None, full: float) -> str:
    if cell.attempts == 0 or kind in NOT_ATTEMPTED:
        return "not attempted"
    if kind is not None:
        return "could not run"
    return "full" if (cell.last or 0.0) >= full else "wrong"


def _last(course: Course, model: CourseModel, learners: list[int] | None) -> Any:
    """One row per (learner, exercise): its newest counted attempt, which holds the
    attempts and best score (stored columns, grader.server.facts)."""
    return newest(course, learners).annotate(late=_late(model))


def _late(model: CourseModel) -> Case:
    """Whether an attempt reached the server after its exercise's deadline."""
    late = [When(exercise=e.id, received_at__gt=deadline, then=Value(True))
            for e in model.exercises if (deadline := model.deadline_for(e))]
    return Case(*late, default=Value(False), output_field=BooleanField())


def newest(course: Course, learners: Any) -> Any:
    """The newest counted attempt of each learner (ids, or a query of them) and exercise,
    read through its partial index (an attempt queued again for a regrade shows its last
    result until regraded)."""
    facts.sync(course)
    if learners is None:
        learners = course.learners.values("id")  # the index's (course, learner) prefix
    return Submission.objects.filter(course=course, latest=True, counts=True,
                                     learner_id__in=learners)


def _cells(course: Course, model: CourseModel, learners: list[int] | None
           ) -> tuple[dict[tuple[int, str], Cell], dict[str, ErrorKind | None]]:
    """Each (learner id, exercise)'s cell, and how each last attempt failed."""
    rows = _last(course, model, learners).values_list(
        "learner_id", "exercise", "score", "best", "attempts", "id", "late", "error_kind")
    found, kinds = {}, {}
    for learner, exercise, score, best, attempts, ident, is_late, kind in rows:
        found[learner, exercise] = Cell(attempts=attempts, best=best, last=score,
                                        last_id=ident, late=bool(is_late), counted_id=ident,
                                        counted=score, counted_late=bool(is_late))
        kinds[ident] = _kind(kind)
    if model.counts == "best":
        top = Submission.objects.filter(course=course, top=True, counts=True,
                                        learner_id__in=[i for i, _ in found])
        for learner, exercise, ident, score, is_late in top.annotate(
                late=_late(model)).values_list("learner_id", "exercise", "id", "score", "late"):
            if (learner, exercise) in found:
                cell = found[learner, exercise]
                cell.counted_id, cell.counted, cell.counted_late = ident, score, bool(is_late)
    return found, kinds


def _in_state(model: CourseModel, full: dict[str, float], state: str) -> Q:
    """The newest attempts whose cell is in `state` (as _state says), as a filter."""
    unrun = Q(error_kind__in=[k.value for k in NOT_ATTEMPTED])
    if state == "not attempted":
        return unrun
    if state == "could not run":
        return ~Q(error_kind="") & ~unrun
    reached = Q()
    for exercise in model.exercises:
        reached |= Q(exercise=exercise.id, score__gte=full[exercise.id])
    return Q(error_kind="") & (reached if state == "full" else ~reached)


def _final(model: CourseModel, course: Course, learner: Learner, cell: Cell) -> float | None:
    """The cell's final score by the batch's code (only cells a TA or a deadline moved:
    the others' final score is the counted attempt's)."""
    job = Submission.objects.filter(id=cell.counted_id).only("result", "received_at").first()
    if job is None:
        return cell.counted
    result = ExerciseResult.model_validate_json(job.result)
    return review.settled(model, course, learner, result, job.received_at).score


@dataclass(frozen=True)
class Page:
    exercises: list[str]
    rows: list[Row]
    total: int  # learners matching the filters
    number: int
    pages: int


def grid(course: Course, section: str = "", state: str = "", page: int = 1,
         size: int = 200) -> Page:
    """One page of `course`'s grid, filtered by section and by a cell's state. Only the
    page's learners get their final scores; a state filter first finds the matching
    learners from the class's last attempts (states need no final score)."""
    model = course_of(course.root)
    learners = course.learners.order_by("section", "student")
    if section:
        learners = learners.filter(section=section)
    ids = list(learners.values_list("id", flat=True))
    if state:
        ids = matching(course, model, ids, state, section)
    total = len(ids)
    pages = max(1, -(-total // size))
    number = min(max(1, page), pages)
    chosen_ids = ids[(number - 1) * size:number * size]
    order = {ident: at for at, ident in enumerate(chosen_ids)}
    chosen = sorted(course.learners.filter(id__in=chosen_ids), key=lambda x: order[x.id])
    rows = _rows(course, model, chosen, chosen_ids)
    return Page([e.id for e in model.exercises], rows, total, number, pages)


def matching(course: Course, model: CourseModel, ids: list[int], state: str,
             section: str) -> list[int]:
    """Of `ids` (in the grid's order), the learners with a cell in `state`, by one query
    on the newest attempts' stored columns (no result parsed, no final score)."""
    roster = course.learners.filter(section=section) if section else course.learners.all()
    jobs = newest(course, roster.values("id"))
    found = set(jobs.filter(_in_state(model, max_scores(course.root), state))
                .values_list("learner_id", flat=True))
    if state == "not attempted":  # a learner without an attempt at an exercise has one too
        tried = (jobs.values("learner_id").annotate(n=Count("id"))
                 .filter(n=len(model.exercises)).values_list("learner_id", flat=True))
        found |= set(ids) - set(tried)
    return [i for i in ids if i in found]


def _rows(course: Course, model: CourseModel, learners: list[Learner],
          ids: list[int] | None) -> list[Row]:
    full = max_scores(course.root)
    cells, kinds = _cells(course, model, ids)
    adjusted = set(Adjustment.objects.filter(course=course).values_list("learner_id", "exercise"))
    adjusted |= set(RubricMark.objects.filter(item__course=course).values_list(
        "learner_id", "item__exercise"))
    extended = set(Extension.objects.filter(course=course).values_list("learner_id", "exercise"))
    exercises = [e.id for e in model.exercises]
    out = []
    for learner in learners:
        row = Row(learner)
        for exercise in exercises:
            cell = cells.get((learner.id, exercise), Cell())
            kind = kinds.get(cell.last_id)
            cell.kind = KIND_NAMES.get(kind, kind.value) if kind else ""
            cell.state = _state(cell, kind, full[exercise])
            free = (learner.id, exercise) not in extended and (learner.id, "") not in extended
            cell.late = cell.late and free
            cell.adjusted = (learner.id, exercise) in adjusted
            cell.final = _final(model, course, learner, cell) if cell.adjusted or (
                cell.counted_late and free and cell.attempts) else cell.counted
            row.cells[exercise] = cell
        out.append(row)
    return out


def sections(course: Course) -> list[str]:
    return sorted(set(course.learners.values_list("section", flat=True)) - {""})


