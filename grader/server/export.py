"""`grade serve export`: each learner's counted submission, exported by the batch's code."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.batch.regrade import finalise_scores
from grader.kinds import NO_SUBMISSION, ErrorKind
from grader.reports.export import write_exports
from grader.results import ClassResult, ExerciseInfo, ExerciseResult, Person, StudentResult
from grader.runner import Failure, Grader
from grader.sandbox.client import Sandbox
from grader.server.models import Course, Submission
from grader.server.views import course_of


@dataclass(frozen=True)
class Handed:
    """A learner as the late policy sees them (batch.adjust.Timed): when each counted
    file reached the server."""

    id: str
    times: Mapping[str, datetime] = field(default_factory=dict)
    late: bool = False


def counted(course: Course) -> dict[tuple[str, str], Submission]:
    """(student, exercise) -> the submission that counts: the last graded attempt."""
    found: dict[tuple[str, str], Submission] = {}
    for job in (Submission.objects.filter(course=course, state=Submission.GRADED, counts=True)
                .select_related("learner").order_by("received_at", "id")):
        found[job.learner.student, job.exercise] = job
    return found


def class_result(course: Course) -> tuple[ClassResult, list[Handed], dict[tuple[str, str], str]]:
    model = course_of(course.root)
    reference = Grader(model, Sandbox())
    jobs = counted(course)
    students, handed, files = [], [], {}
    people: dict[str, Person] = {}
    for learner in course.learners.order_by("student"):
        results: list[ExerciseResult] = []
        times: dict[str, datetime] = {}
        for exercise in model.exercises:
            job = jobs.get((learner.student, exercise.id))
            if job is None:
                results.append(reference.catalogue.failed(
                    exercise, Failure(NO_SUBMISSION, ErrorKind.MISSING), time.monotonic()))
                continue
            results.append(ExerciseResult.model_validate_json(job.result))
            times[exercise.id] = job.received_at
            files[learner.student, exercise.id] = job.sha256
        students.append(StudentResult(student=learner.student, exercises=results))
        handed.append(Handed(learner.student, times))
        people[learner.student] = Person(name=learner.name, email=learner.email,
                                         sis_id=learner.sis_id, sis_login=learner.sis_login,
                                         section=learner.section)
    infos = [ExerciseInfo(id=e.id, title=e.title, max_score=reference.catalogue.max_score(e))
             for e in model.exercises]
    return (ClassResult(course=model.title, exercises=infos, students=students, people=people),
            handed, files)


def export(course: Course, outdir: Path) -> list[Path]:
    """Write what `grade batch` writes into `outdir`, from the database."""
    graded, handed, files = class_result(course)
    outdir.mkdir(parents=True, exist_ok=True)
    settled = finalise_scores(course_of(course.root), graded, handed, files, outdir)
    return write_exports(outdir, settled.result)
