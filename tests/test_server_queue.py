"""The server's queue on a real (SQLite) database: learners before bulk regrades, grader
faults retried and never counted, a result written only by the lease holder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("django", reason="the serve extra (in dev)")

from grader.course import load_course
from grader.kinds import ErrorKind
from grader.results import ExerciseResult
from grader.runner import Failure, Grader
from grader.sandbox.client import Sandbox
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from grader.server.settings import configure, migrate

    configure(tmp_path_factory.mktemp("queue"), None)
    migrate()
    from grader.server import models

    yield models


def _learner(models: Any, name: str) -> Any:
    course, _ = models.Course.objects.get_or_create(slug="c", defaults={"root": str(ROOT)})
    return models.Learner.objects.create(course=course, student=name, token_hash=name * 8)


def _result(kind: ErrorKind | None) -> ExerciseResult:
    course = load_course(ROOT / "course.yaml")
    exercise = course.exercises[0]
    grader = Grader(course, Sandbox())
    if kind is None:
        return grader.catalogue.failed(exercise, Failure("syntax", ErrorKind.SYNTAX),
                                       time.monotonic())
    return grader.catalogue.failed(exercise, Failure("the grader broke", kind), time.monotonic())


def _enqueue(models: Any, learner: Any, key: str) -> Any:
    from grader.server import queue

    job, _ = queue.enqueue(queue.Upload(learner, "exercise-1", "0" * 64, ".py", 10, key))
    return job


def test_a_grader_fault_is_retried_and_never_counted_as_an_attempt(db: Any) -> None:
    from grader.server import queue

    job = _enqueue(db, _learner(db, "faulty"), "k1")
    fault = _result(ErrorKind.GRADER_FAULT)
    for attempt in range(1, queue.MAX_TRIES):
        assert queue.lease("w") is not None
        assert queue.finish(job, "w", fault, "digest")
        job.refresh_from_db()
        assert (job.state, job.tries, job.counts) == ("queued", attempt, False)
    assert queue.lease("w") is not None
    assert queue.finish(job, "w", fault, "digest")
    job.refresh_from_db()
    assert (job.state, job.counts) == ("graded", False)  # the fault is the verdict, uncounted
    kinds = list(job.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["received", *["fault-retried"] * (queue.MAX_TRIES - 1), "graded"]


def test_only_the_lease_holder_writes_a_result_and_only_once(db: Any) -> None:
    from grader.server import queue

    job = _enqueue(db, _learner(db, "holder"), "k2")
    assert queue.lease("w1").id == job.id
    assert not queue.finish(job, "w2", _result(None), "digest")  # not w2's lease
    assert queue.finish(job, "w1", _result(None), "digest")
    assert not queue.finish(job, "w1", _result(None), "digest")  # already graded
    job.refresh_from_db()
    assert job.state == "graded" and job.counts
    assert job.events.filter(kind="graded").count() == 1


def test_learners_go_ahead_of_bulk_regrades(db: Any) -> None:
    from grader.server import queue

    bulk = _enqueue(db, _learner(db, "early"), "k3")
    db.Submission.objects.filter(id=bulk.id).update(lane=db.Submission.BULK)
    learner = _enqueue(db, _learner(db, "late"), "k4")
    assert queue.position(db.Submission.objects.get(id=bulk.id)) == 1
    assert queue.lease("w").id == learner.id
    assert queue.lease("w").id == bulk.id
