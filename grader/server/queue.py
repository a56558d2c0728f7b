"""The grading queue, in the database: leases with heartbeats, requeue, exactly-once results.

A worker leases the oldest queued job of the first lane (learners before bulk regrades)
for `LEASE` seconds and renews the lease while it grades. A lease that runs out (a
killed server, a hung worker) puts the job back in the queue. A result is written only
by the holder of the current lease, in the same transaction that marks the job graded
and appends the ledger event: so a job is graded into the gradebook exactly once.
"""

from __future__ import annotations

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
            course_id=upload.learner.course_id, learner=upload.learner,
            exercise=upload.exercise, sha256=upload.sha256, suffix=upload.suffix,
            size=upload.size, idempotency_key=upload.key, received_at=now())
        record(submission, upload.learner.student, "received", f"sha256 {upload.sha256}")
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


def lease(owner: str, term: timedelta = LEASE) -> Submission | None:
    """The next job, leased to `owner` for `term`; None when the queue is empty."""
    with transaction.atomic():
        job = (Submission.objects.select_for_update(skip_locked=True)
               .filter(state=Submission.QUEUED).order_by("lane", "received_at", "id").first())
        if job is None:
            return None
        moment = now()
        job.state, job.lease_owner = Submission.GRADING, owner
        job.leased_at, job.lease_until = moment, moment + term
        job.save(update_fields=["state", "lease_owner", "leased_at", "lease_until"])
    return job


def renew(owner: str, ids: list[str], hard_limit: timedelta, term: timedelta = LEASE) -> None:
    """Extend `owner`'s leases on `ids`, except those graded for longer than `hard_limit`
    (their lease then runs out and the job is requeued)."""
    moment = now()
    Submission.objects.filter(id__in=ids, lease_owner=owner, state=Submission.GRADING,
                              leased_at__gt=moment - hard_limit
                              ).update(lease_until=moment + term)


def finish(job: Submission, owner: str, result: ExerciseResult, digest: str,
           worker: str = "") -> bool:
    """Store `result` for `job` if `owner` still holds its lease; a grader fault is
    retried (not an attempt) until MAX_TRIES. False when the lease was lost."""
    with transaction.atomic():
        held = Submission.objects.select_for_update().filter(
            id=job.id, state=Submission.GRADING, lease_owner=owner).first()
        if held is None:
            return False
        if result.grader_fault and held.tries + 1 < MAX_TRIES:
            held.state, held.lease_owner, held.lease_until = Submission.QUEUED, "", None
            held.tries += 1
            held.save(update_fields=["state", "lease_owner", "lease_until", "tries"])
            record(held, owner, "fault-retried", result.error or "")
            return True
        kind = "regraded" if held.result else "graded"
        held.state, held.graded_at = Submission.GRADED, now()
        held.result, held.score = result.model_dump_json(), result.score
        held.counts = not result.grader_fault
        held.grader_version, held.course_digest = __version__, digest
        held.lease_owner, held.lease_until = "", None
        held.save()
        record(held, owner, kind, f"score {result.score}/{result.max_score} by grade "
               f"{__version__}, course {digest[:12]}" + (f", on {worker}" if worker else ""))
    return True


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
    return len(stale)
