"""The grading queue, in the database: leases with heartbeats, requeue, exactly-once results.

A server leases the oldest queued jobs of the first lane (learners before bulk regrades)
for `LEASE` seconds and renews the leases while it grades. A lease that runs out (a
killed server, a hung worker) puts the job back in the queue. A result is written only
by the holder of the current lease, in the same transaction that marks the job graded
and appends the ledger event: so a job is graded into the gradebook exactly once.

Leases and results go in batches (several jobs per transaction): on SQLite every write
transaction takes the one write lock and syncs the log, so one per job would make the
grading wait on the database instead of the workers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grader.results import ExerciseResult
from grader.server.models import Event, Learner, Submission
from grader.version import __version__

LEASE = timedelta(seconds=30)
MAX_TRIES = 3  # grader faults retried before the fault is the verdict

# Set when a job is queued by this process: its grading service wakes at once instead of
# polling the database (jobs queued by another process are seen at the next poll).
arrived = threading.Event()


def now() -> datetime:
    return timezone.now()


def record(submission: Submission, actor: str, kind: str, why: str = "") -> None:
    Event.objects.create(at=now(), course_id=submission.course_id, submission=submission,
                         actor=actor, kind=kind, why=why)


@dataclass(frozen=True)
class Upload:
    learner: Learner
    exercise: str
    sha256: str
    suffix: str
    size: int
    key: str


def enqueue(upload: Upload) -> tuple[Submission, bool]:
    """The submission for `upload` (committed), and whether it is new: the same
    idempotency key from the same learner returns the first one."""
    with transaction.atomic():
        old = Submission.objects.filter(learner=upload.learner, idempotency_key=upload.key).first()
        if old is not None:
            return old, False
        submission = Submission.objects.create(
            course=upload.learner.course, learner=upload.learner,  # loaded: no query later
            exercise=upload.exercise, sha256=upload.sha256, suffix=upload.suffix,
            size=upload.size, idempotency_key=upload.key, received_at=now())
        record(submission, upload.learner.student, "received", f"sha256 {upload.sha256}")
        transaction.on_commit(arrived.set)
    return submission, True


def requeue_expired() -> int:
    """Put back every job whose lease ran out; how many."""
    with transaction.atomic():
        stale = list(Submission.objects.select_for_update().filter(
            state=Submission.GRADING, lease_until__lt=now()))
        for job in stale:
            job.state, job.lease_owner, job.lease_until = Submission.QUEUED, "", None
            job.save(update_fields=["state", "lease_owner", "lease_until"])
            record(job, "server", "requeued", f"the lease of {job.lease_owner or 'a worker'} "
                   "ran out (a stopped server or a hung worker)")
    return len(stale)


def lease_many(owner: str, count: int, term: timedelta = LEASE) -> list[Submission]:
    """Up to `count` next jobs in queue order, leased to `owner` for `term`, in one
    transaction; [] when the queue is empty."""
    with transaction.atomic():
        ids = list(Submission.objects.select_for_update(skip_locked=True)
                   .filter(state=Submission.QUEUED).order_by("lane", "received_at", "id")
                   .values_list("id", flat=True)[:count])
        if not ids:
            return []
        moment = now()
        Submission.objects.filter(id__in=ids).update(
            state=Submission.GRADING, lease_owner=owner, leased_at=moment,
            lease_until=moment + term)
        jobs = Submission.objects.in_bulk(ids)
    return [jobs[ident] for ident in ids]


def lease(owner: str, term: timedelta = LEASE) -> Submission | None:
    """The next job, leased to `owner` for `term`; None when the queue is empty."""
    jobs = lease_many(owner, 1, term)
    return jobs[0] if jobs else None


def renew(owner: str, ids: list[str], hard_limit: timedelta, term: timedelta = LEASE) -> None:
    """Extend `owner`'s leases on `ids`, except those graded for longer than `hard_limit`
    (their lease then runs out and the job is requeued)."""
    moment = now()
    Submission.objects.filter(id__in=ids, lease_owner=owner, state=Submission.GRADING,
                              leased_at__gt=moment - hard_limit
                              ).update(lease_until=moment + term)


@dataclass(frozen=True)
class Outcome:
    """A job's result from the workers, to be stored: course digest, and which worker."""

    job: Submission
    result: ExerciseResult
    digest: str
    worker: str = ""


def finish(job: Submission, owner: str, result: ExerciseResult, digest: str,
           worker: str = "") -> bool:
    """Store `result` for `job` if `owner` still holds its lease; a grader fault is
    retried (not an attempt) until MAX_TRIES. False when the lease was lost."""
    return finish_many(owner, [Outcome(job, result, digest, worker)]) == [True]


def finish_many(owner: str, outcomes: Sequence[Outcome]) -> list[bool]:
    """`finish` for each outcome, in one transaction: whether each was stored."""
    if not outcomes:
        return []
    with transaction.atomic():
        held = Submission.objects.select_for_update().in_bulk(
            [o.job.id for o in outcomes])
        stored: list[bool] = []
        events: list[Event] = []
        for outcome in outcomes:
            job = held.get(outcome.job.id)
            if job is None or job.state != Submission.GRADING or job.lease_owner != owner:
                stored.append(False)
                continue
            events.append(_store(job, owner, outcome))
            stored.append(True)
        Event.objects.bulk_create(events)
    return stored


def _store(job: Submission, owner: str, outcome: Outcome) -> Event:
    """Write `outcome` into `job` (leased by `owner`); the ledger event to append."""
    result = outcome.result
    moment = now()
    if result.grader_fault and job.tries + 1 < MAX_TRIES:
        job.state, job.lease_owner, job.lease_until = Submission.QUEUED, "", None
        job.tries += 1
        job.save(update_fields=["state", "lease_owner", "lease_until", "tries"])
        return Event(at=moment, course_id=job.course_id, submission=job, actor=owner,
                     kind="fault-retried", why=result.error or "")
    kind = "regraded" if job.result else "graded"
    job.state, job.graded_at = Submission.GRADED, moment
    job.result, job.score = result.model_dump_json(), result.score
    job.counts = not result.grader_fault
    job.grader_version, job.course_digest = __version__, outcome.digest
    job.lease_owner, job.lease_until = "", None
    job.save()
    on = f", on {outcome.worker}" if outcome.worker else ""
    return Event(at=moment, course_id=job.course_id, submission=job, actor=owner, kind=kind,
                 why=f"score {result.score}/{result.max_score} by grade {__version__}, "
                     f"course {outcome.digest[:12]}{on}")


def position(job: Submission) -> int:
    """How many jobs are ahead of `job` (being graded or before it in the queue); 0 once
    it is being graded."""
    if job.state != Submission.QUEUED:
        return 0
    ahead = Q(lane__lt=job.lane) | Q(lane=job.lane, received_at__lt=job.received_at)
    return Submission.objects.filter(state=Submission.QUEUED).filter(ahead).count()


def regrade_stale(course_id: int, digest: str) -> int:
    """Queue again, in the bulk lane, every graded submission of the course graded by
    other checks than `digest` (the course changed); how many."""
    with transaction.atomic():
        stale = list(Submission.objects.select_for_update().filter(
            course_id=course_id, state=Submission.GRADED).exclude(course_digest=digest))
        for job in stale:
            job.state, job.lane, job.tries = Submission.QUEUED, Submission.BULK, 0
            job.save(update_fields=["state", "lane", "tries"])
            record(job, "server", "regrade-queued",
                   f"the course's checks changed ({job.course_digest[:12]} -> {digest[:12]})")
        transaction.on_commit(arrived.set)
    return len(stale)


def regrade(course_id: int, by: str, why: str, exercise: str | None = None) -> int:
    """Queue again, in the bulk lane (behind every learner's upload), each graded
    submission of the course (of `exercise` only, if given), grader faults included; the
    ledger says who asked and why. How many."""
    with transaction.atomic():
        graded = Submission.objects.select_for_update().filter(
            course_id=course_id, state=Submission.GRADED)
        if exercise is not None:
            graded = graded.filter(exercise=exercise)
        ids = list(graded.values_list("id", flat=True))
        Submission.objects.filter(id__in=ids).update(state=Submission.QUEUED,
                                                      lane=Submission.BULK, tries=0)
        moment = now()
        Event.objects.bulk_create(
            [Event(at=moment, course_id=course_id, submission_id=ident, actor=by,
                   kind="regrade-queued", why=why) for ident in ids], batch_size=500)
        transaction.on_commit(arrived.set)
    return len(ids)
