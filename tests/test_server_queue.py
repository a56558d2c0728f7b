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


def _commits_counted() -> list[int]:
    """A counter of COMMITs run from now on by connections opened from now on."""
    from django.db.backends.signals import connection_created

    counted = [0]

    def trace(sql: str) -> None:
        counted[0] += sql.lstrip().upper().startswith("COMMIT")

    def traced(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.connection.set_trace_callback(trace)

    connection_created.connect(traced, weak=False)
    return counted


def _send_together(uploads: list[Any]) -> list[Any]:
    """Each upload from its own thread, all waiting while this thread holds the write
    lock (as behind the dispatcher's round); then let go. Each answer or exception."""
    import threading

    from grader.server import queue

    answers: list[Any] = [None] * len(uploads)

    def send(n: int) -> None:
        try:
            answers[n] = queue.enqueue(uploads[n])
        except Exception as exc:
            answers[n] = exc

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(uploads))]
    with queue.WRITING:
        for thread in threads:
            thread.start()
        until = time.monotonic() + 30
        while len(queue._PENDING) < len(uploads) and time.monotonic() < until:
            time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    return answers


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_uploads_waiting_together_are_one_commit_and_a_key_sent_twice_is_one_submission(
        db: Any) -> None:
    from grader.server import queue

    learners = [_learner(db, f"group{n}") for n in range(4)]
    uploads = [queue.Upload(learner, "exercise-1", "1" * 64, ".py", 10, "same-key")
               for learner in learners]
    uploads.append(queue.Upload(learners[0], "exercise-1", "1" * 64, ".py", 10, "same-key"))
    counted = _commits_counted()
    answers = _send_together(uploads)
    assert counted[0] == 1, fail(counted[0], 1, "five uploads waiting together: one commit")
    assert all(isinstance(answer, tuple) for answer in answers), answers
    assert answers[0][0].id == answers[4][0].id and [a[1] for a in answers] == [True] * 4 + [
        False], fail(answers, "the fifth the first's submission, not new", "idempotent key")
    rows = db.Submission.objects.filter(learner__in=learners)
    assert rows.count() == 4, fail(rows.count(), 4, "one row per learner and key")
    events = db.Event.objects.filter(submission__in=rows, kind="received").count()
    assert events == 4, fail(events, 4, "one 'received' in the ledger per submission")


def test_an_upload_the_database_refuses_fails_alone_and_the_others_of_its_group_are_stored(
        db: Any) -> None:
    from grader.server import queue

    good = [_learner(db, f"good{n}") for n in range(3)]
    gone = _learner(db, "gone")
    db.Learner.objects.filter(id=gone.id).delete()  # its row is refused (foreign key)
    learners = [good[0], gone, good[1], good[2]]
    answers = _send_together([queue.Upload(learner, "exercise-1", "2" * 64, ".py", 10, "k")
                              for learner in learners])
    assert isinstance(answers[1], Exception), fail(answers[1], "an error", "no such learner")
    stored = [answer for n, answer in enumerate(answers) if n != 1]
    assert all(isinstance(a, tuple) and a[1] for a in stored), fail(stored, "3 new", "others")
    assert db.Submission.objects.filter(learner__in=good).count() == 3


def test_the_upload_rate_is_counted_in_memory_and_remembers_the_last_minute_s_uploads(
        db: Any) -> None:
    from grader.server.ratelimit import Limiter

    learner = _learner(db, "eager")
    for n in range(3):
        _enqueue(db, learner, f"rate-{n}")
    limiter = Limiter(rate=5)  # a server started now: the 3 stored uploads count
    admitted = [limiter.admit(learner) for _ in range(3)]
    assert admitted == [True, True, False], fail(admitted, [True, True, False], "3 + 2 = 5")
    assert not Limiter(rate=3).admit(learner)
    time.sleep(0.6)
    assert Limiter(rate=3, window=0.5).admit(learner), "uploads older than the window count"


def test_prepared_reads_give_the_orm_s_submission_learner_and_course_and_no_one_else_s(
        db: Any) -> None:
    from grader.server import queue, reads

    owner, other = _learner(db, "reader"), _learner(db, "stranger")
    job = _enqueue(db, owner, "read-1")
    assert job.id in [leased.id for leased in queue.lease_many("w", 1000)]
    assert queue.finish(job, "w", _result(None), "digest")
    read = reads.own(owner.id, job.id)
    orm = db.Submission.objects.select_related("course").get(id=job.id)
    for model, mine, theirs in ((db.Submission, read, orm), (db.Course, read.course, orm.course)):
        for field in model._meta.concrete_fields:
            got, want = getattr(mine, field.attname), getattr(theirs, field.attname)
            assert got == want and type(got) is type(want), fail(got, want, field.name)
    assert reads.own(other.id, job.id) is None, "another learner's id is not found"
    found = reads.learner(owner.token_hash)
    for model, mine, theirs in ((db.Learner, found, owner), (db.Course, found.course,
                                                             owner.course)):
        for field in model._meta.concrete_fields:
            got, want = getattr(mine, field.attname), getattr(theirs, field.attname)
            assert got == want and type(got) is type(want), fail(got, want, field.name)
    assert reads.learner("no such hash") is None
