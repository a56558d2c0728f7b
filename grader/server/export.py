"""`grade serve export`: each learner's counted submission, exported by the batch's code."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from grader.batch.regrade import finalise_scores
from grader.kinds import NO_SUBMISSION, ErrorKind
from grader.reports.export import write_exports
from grader.results import ClassResult, ExerciseInfo, ExerciseResult, Person, StudentResult
from grader.runner import Failure, Grader
from grader.sandbox.client import Sandbox
from grader.server import facts
from grader.server.models import Course, Submission
from grader.server.views import course_of


@dataclass(frozen=True)
class Handed:
    """A learner as the late policy sees them (batch.adjust.Timed): when each counted
    file reached the server."""

    id: str
    times: Mapping[str, datetime] = field(default_factory=dict)
    late: bool = False


def chosen(course: Course) -> Any:
    """The submissions that count, by course.yaml's `counts`: each learner's last graded
    attempt of an exercise, or their best-scoring one (the newer of a tie); stored
    columns kept by grader.server.facts, read through their partial index."""
    facts.sync(course)
    rule = {"best": {"top": True}}.get(course_of(course.root).counts, {"latest": True})
    return Submission.objects.filter(course=course, counts=True,
                                     learner_id__in=course.learners.values("id"), **rule)


def counted(course: Course) -> dict[tuple[str, str], Submission]:
    """(student, exercise) -> the submission that counts (see `chosen`)."""
    return {(job.learner.student, job.exercise): job
            for job in chosen(course).select_related("learner")}


class Counted(NamedTuple):
    """A counted submission's stored columns, as the grade tables read them (no dates:
    parsing 9,000 of them costs more than the rest; see `received`)."""

    id: str
    exercise: str
    score: float | None
    max_score: float | None
    error_kind: str


def counted_columns(course: Course) -> dict[str, dict[str, Counted]]:
    """student -> exercise -> the counted submission's columns (one index read)."""
    students = dict(course.learners.values_list("id", "student"))
    found: dict[str, dict[str, Counted]] = {}
    for learner, *rest in chosen(course).values_list("learner_id", *Counted._fields):
        row = Counted(*rest)
        found.setdefault(students[learner], {})[row.exercise] = row
    return found


def received(ids: list[str]) -> dict[str, datetime]:
    """When each of the submissions `ids` reached the server."""
    found: dict[str, datetime] = {}
    for at in range(0, len(ids), 500):
        found.update(Submission.objects.filter(id__in=ids[at:at + 500]).values_list(
            "id", "received_at"))
    return found


def _light(job: Counted) -> ExerciseResult:
    """A counted result as the grade tables read it (points, kind of failure), from its
    stored columns: no checks, output or messages, nothing parsed."""
    kind = ErrorKind(job.error_kind) if job.error_kind else None
    return ExerciseResult.model_construct(
        exercise=job.exercise, score=job.score or 0.0, max_score=job.max_score or 0.0,
        error=kind.value if kind else None, checks=[], error_kind=kind)


@functools.lru_cache(maxsize=16)
def _reference(root: str, digest: str) -> tuple[Grader, tuple[ExerciseInfo, ...]]:
    """The course's checks and each exercise's points (per version of course.yaml)."""
    model = course_of(root)
    reference = Grader(model, Sandbox())
    return reference, tuple(ExerciseInfo(id=e.id, title=e.title,
                                         max_score=reference.catalogue.max_score(e))
                            for e in model.exercises)


def _of(course: Course) -> tuple[Grader, tuple[ExerciseInfo, ...]]:
    digest = hashlib.sha256((Path(course.root) / "course.yaml").read_bytes()).hexdigest()
    return _reference(course.root, digest)


def infos(course: Course) -> list[ExerciseInfo]:
    return list(_of(course)[1])


def _missing(course: Course, exercise: str) -> ExerciseResult:
    reference = _of(course)[0]
    found = reference.course.exercise(exercise)
    assert found is not None
    return reference.catalogue.failed(found, Failure(NO_SUBMISSION, ErrorKind.MISSING),
                                      time.monotonic())


def light_results(course: Course, students: list[str],
                  jobs: dict[str, dict[str, Counted]], by_check: set[tuple[str, str]]
                  ) -> tuple[ClassResult, list[Handed]]:
    """`students`' counted results as the grade tables read them (`jobs`: their stored
    columns); parsed in full only where a check's points are adjusted (`by_check`)."""
    model = course_of(course.root)
    whole = [jobs[s][e].id for s, e in by_check if s in students and e in jobs.get(s, {})]
    times = received([j.id for s in students for j in jobs.get(s, {}).values()])
    parsed = {job.id: ExerciseResult.model_validate_json(job.result)
              for job in Submission.objects.filter(id__in=whole)}
    out, handed = [], []
    for student in students:
        results, when = [], {}
        for exercise in model.exercises:
            job = jobs.get(student, {}).get(exercise.id)
            if job is None:
                results.append(_missing(course, exercise.id))
                continue
            results.append(parsed.get(job.id) or _light(job))
            when[exercise.id] = times[job.id]
        out.append(StudentResult(student=student, exercises=results))
        handed.append(Handed(student, when))
    return (ClassResult.model_construct(course=model.title, exercises=infos(course),
                                        students=out), handed)


def class_result(course: Course) -> tuple[ClassResult, list[Handed], dict[tuple[str, str], str]]:
    model = course_of(course.root)
    jobs = counted(course)
    students, handed, files = [], [], {}
    people: dict[str, Person] = {}
    for learner in course.learners.order_by("student"):
        results: list[ExerciseResult] = []
        times: dict[str, datetime] = {}
        for exercise in model.exercises:
            job = jobs.get((learner.student, exercise.id))
            if job is None:
                results.append(_missing(course, exercise.id))
                continue
            results.append(ExerciseResult.model_validate_json(job.result))
            times[exercise.id] = job.received_at
            files[learner.student, exercise.id] = job.sha256
        students.append(StudentResult(student=learner.student, exercises=results))
        handed.append(Handed(learner.student, times))
        people[learner.student] = Person(name=learner.name, email=learner.email,
                                         sis_id=learner.sis_id, sis_login=learner.sis_login,
                                         section=learner.section)
    return (ClassResult(course=model.title, exercises=infos(course), students=students,
                        people=people), handed, files)


def export(course: Course, outdir: Path) -> list[Path]:
    """Write what `grade batch` writes into `outdir`, from the database."""
    graded, handed, files = class_result(course)
    outdir.mkdir(parents=True, exist_ok=True)
    settled = finalise_scores(course_of(course.root), graded, handed, files, outdir)
    return write_exports(outdir, settled.result)
