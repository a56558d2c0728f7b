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

from django.db import connection, transaction
from django.utils import timezone

from grader.results import ExerciseResult
from grader.server import prepared, reads
from grader.server.models import Event, Learner, Submission
from grader.version import __version__

LEASE = timedelta(seconds=30)
MAX_TRIES = 3  # grader faults retried before the fault is the verdict

# Set when a job is queued by this process: its grading service wakes at once instead of
# polling the database (jobs queued by another process are seen at the next poll).
arrived = threading.Event()

# One write transaction at a time in this process: the others wait here, in turn, and
# not in SQLite's busy handler, which sleeps up to 100 ms between looks at its lock.
WRITING = threading.RLock()


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
    idempotency key from the same learner returns the first one.

    Group commit: uploads that arrive while another write holds WRITING wait for it,
    then the first of them commits all that are waiting in one transaction (one sync
    of the log), and each is acknowledged only after that commit."""
    ticket = _Ticket(upload)
    with _PENDING_LOCK:
        _PENDING.append(ticket)
    with WRITING:
        with _PENDING_LOCK:
            batch = _PENDING[:]
            _PENDING.clear()
        if batch:
            _commit(batch)
    # done: in this batch, or in one an earlier thread committed before it let WRITING go
    if ticket.error is not None:
        raise ticket.error
    assert ticket.answer is not None
    return ticket.answer


@dataclass
class _Ticket:
    """An upload waiting for its group's commit, and what came of it."""

    upload: Upload
    answer: tuple[Submission, bool] | None = None
    error: Exception | None = None


_PENDING: list[_Ticket] = []
_PENDING_LOCK = threading.Lock()


def _commit(batch: list[_Ticket]) -> None:
    """Commit `batch` in one transaction; if it fails, each upload alone, so one bad
    upload (a key PostgreSQL refuses) never fails the others with it."""
    try:
        answers = _insert([ticket.upload for ticket in batch])
    except Exception as exc:
        if len(batch) == 1:
            batch[0].error = exc
        else:
            for ticket in batch:
                _commit([ticket])
        return
    for ticket, answer in zip(batch, answers, strict=True):
        ticket.answer = answer


def _insert(uploads: list[Upload]) -> list[tuple[Submission, bool]]:
    """The rows of `uploads` with their ledger events, in one transaction: a retried
    key (earlier, or twice in this batch) returns its first submission."""
    with transaction.atomic():
        known = {(job.learner_id, job.idempotency_key): job for job in _with_keys(uploads)}
        answers: list[tuple[Submission, bool]] = []
        made: list[Submission] = []
        for upload in uploads:
            old = known.get((upload.learner.id, upload.key))
            if old is not None:
                answers.append((old, False))
                continue
            job = Submission(
                course=upload.learner.course, learner=upload.learner,  # loaded: no query later
                exercise=upload.exercise, sha256=upload.sha256, suffix=upload.suffix,
                size=upload.size, idempotency_key=upload.key, received_at=now())
            known[upload.learner.id, upload.key] = job
            made.append(job)
            answers.append((job, True))
        prepared.insert(Submission, made)
        prepared.insert(Event, [
            Event(at=job.received_at, course_id=job.course_id, submission=job,
                  actor=job.learner.student, kind="received", why=f"sha256 {job.sha256}")
            for job in made])
        transaction.on_commit(arrived.set)
    return answers


def _with_keys(uploads: list[Upload]) -> list[Submission]:
    """The submissions already stored under the learners and keys of `uploads` (and
    perhaps a few more: each learner with each key)."""
    learners = sorted({u.learner.id for u in uploads})
    keys = sorted({u.key for u in uploads})
    marks = ", ".join(["%s"] * len(learners)), ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {prepared.columns(Submission, 's')} FROM "
                       f"{prepared.table(Submission)} s WHERE s.{prepared.quote('learner_id')} "
                       f"IN ({marks[0]}) AND s.{prepared.quote('idempotency_key')} "
                       f"IN ({marks[1]})", [*learners, *keys])
        return [prepared.made(Submission, row) for row in cursor.fetchall()]


def requeue_expired() -> int:
    """Put back every job whose lease ran out; how many."""
    with WRITING, transaction.atomic():
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
    q, sub = prepared.quote, prepared.table(Submission)
    # PostgreSQL: rows another server is leasing now are skipped, not waited for
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked \
        else ""
    with WRITING, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {prepared.columns(Submission, 's')} FROM {sub} s WHERE "
                       f"s.{q('state')} = %s ORDER BY s.{q('lane')}, s.{q('received_at')}, "
                       f"s.{q('id')} LIMIT %s{lock}", [Submission.QUEUED, count])
        jobs = [prepared.made(Submission, row) for row in cursor.fetchall()]
        if not jobs:
            return []
        moment = now()
        cursor.execute(
            f"UPDATE {sub} SET {q('state')} = %s, {q('lease_owner')} = %s, "
            f"{q('leased_at')} = %s, {q('lease_until')} = %s WHERE {q('id')} IN "
            f"({', '.join(['%s'] * len(jobs))})",
            [Submission.GRADING, owner, prepared.value(Submission, "leased_at", moment),
             prepared.value(Submission, "lease_until", moment + term),
             *(job.id for job in jobs)])
    for job in jobs:  # the rows as now stored, without reading them again
        job.state, job.lease_owner = Submission.GRADING, owner
        job.leased_at, job.lease_until = moment, moment + term
    return jobs


def lease(owner: str, term: timedelta = LEASE) -> Submission | None:
    """The next job, leased to `owner` for `term`; None when the queue is empty."""
    jobs = lease_many(owner, 1, term)
    return jobs[0] if jobs else None


def renew(owner: str, ids: list[str], hard_limit: timedelta, term: timedelta = LEASE) -> None:
    """Extend `owner`'s leases on `ids`, except those graded for longer than `hard_limit`
    (their lease then runs out and the job is requeued)."""
    moment = now()
    with WRITING:
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
    """`finish` for each outcome, in one transaction: whether each was stored. Each is
    one UPDATE that holds only while `owner` still holds the job's lease (no row is
    read first)."""
    if not outcomes:
        return []
    with WRITING, transaction.atomic():
        events = [_store(owner, outcome) for outcome in outcomes]
        prepared.insert(Event, [event for event in events if event is not None])
    return [event is not None for event in events]


def _store(owner: str, outcome: Outcome) -> Event | None:
    """Write `outcome` into its job if `owner` holds the lease; the ledger event to
    append, None when the lease was lost. `outcome.job` is the row as leased: while
    leased, only its holder changes it."""
    job, result, moment = outcome.job, outcome.result, now()
    if result.grader_fault and _held(owner, job.id, {
            "state": Submission.QUEUED, "lease_owner": "", "lease_until": None},
            retry=True):
        return Event(at=moment, course_id=job.course_id, submission_id=job.id, actor=owner,
                     kind="fault-retried", why=result.error or "")
    if not _held(owner, job.id, {
            "state": Submission.GRADED, "graded_at": moment, "result": result.model_dump_json(),
            "score": result.score, "counts": not result.grader_fault,
            "grader_version": __version__, "course_digest": outcome.digest,
            "lease_owner": "", "lease_until": None}):
        return None
    on = f", on {outcome.worker}" if outcome.worker else ""
    return Event(at=moment, course_id=job.course_id, submission_id=job.id, actor=owner,
                 kind="regraded" if job.result else "graded",
                 why=f"score {result.score}/{result.max_score} by grade {__version__}, "
                     f"course {outcome.digest[:12]}{on}")


def _held(owner: str, ident: str, changes: dict[str, object], retry: bool = False) -> bool:
    """Write `changes` into job `ident` if `owner` holds its lease (`retry`: and it has
    tries left, counting this one); whether it did. One UPDATE, no row read first."""
    q = prepared.quote
    sets = [f"{q(name)} = %s" for name in changes]
    values = [prepared.value(Submission, name, given) for name, given in changes.items()]
    where = f"{q('id')} = %s AND {q('state')} = %s AND {q('lease_owner')} = %s"
    if retry:
        sets.append(f"{q('tries')} = {q('tries')} + 1")
        where += f" AND {q('tries')} < {MAX_TRIES - 1}"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {prepared.table(Submission)} SET {', '.join(sets)} WHERE {where}",
                       [*values, ident, Submission.GRADING, owner])
        return bool(cursor.rowcount == 1)


def position(job: Submission) -> int:
    """How many jobs are ahead of `job` (being graded or before it in the queue); 0 once
    it is being graded."""
    return reads.ahead(job) if job.state == Submission.QUEUED else 0


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
