"""The reads of a learner's look at a submission, in prepared SQL.

Every waiting learner looks, so these run more than any other query; the ORM's query
building (filters, lookups, compiling) costs several times the indexed query itself.
The statements are made once from the models' own metadata, the rows converted as the
ORM converts them and made into the models (Model.from_db), so callers see no difference.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import connection

from grader.server.models import Course, Learner, Publication, Submission
from grader.server.prepared import columns, fields, made, read


@functools.cache
def _own_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT {columns(Submission, 's')}, {columns(Course, 'c')} "
            f"FROM {quote(Submission._meta.db_table)} s JOIN {quote(Course._meta.db_table)} c "
            f"ON c.{quote('id')} = s.{quote('course_id')} "
            f"WHERE s.{quote('id')} = %s AND s.{quote('learner_id')} = %s")


def own(learner_id: int, ident: str) -> Submission | None:
    """The learner's submission `ident` with its course; None if it is not theirs (or
    does not exist: the same answer, so ids leak nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(_own_sql(connection.vendor), [ident, learner_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(fields(Submission))
    job: Submission = made(Submission, row[:split])
    job.course = made(Course, row[split:])  # kept on the job: no query when it is read
    return job


@functools.cache
def _ahead_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    state, lane, received = (quote(c) for c in ("state", "lane", "received_at"))
    return (f"SELECT COUNT(*) FROM {quote(Submission._meta.db_table)} WHERE {state} = %s "
            f"AND ({lane} < %s OR ({lane} = %s AND {received} < %s))")


def ahead(job: Submission) -> int:
    """How many queued jobs are before `job` in the queue (lane, then time received)."""
    received = connection.ops.adapt_datetimefield_value(job.received_at)
    with connection.cursor() as cursor:
        cursor.execute(_ahead_sql(connection.vendor),
                       [Submission.QUEUED, job.lane, job.lane, received])
        return int(cursor.fetchone()[0])


@functools.cache
def _published_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT 1 FROM {quote(Publication._meta.db_table)} "
            f"WHERE {quote('course_id')} = %s AND {quote('exercise')} = %s")


def published(course_id: int, exercise: str) -> bool:
    """Whether the staff published `exercise` of the course (Publication row)."""
    with connection.cursor() as cursor:
        cursor.execute(_published_sql(connection.vendor), [course_id, exercise])
        return cursor.fetchone() is not None


@functools.cache
def _learner_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT {columns(Learner, 'l')}, {columns(Course, 'c')} "
            f"FROM {quote(Learner._meta.db_table)} l JOIN {quote(Course._meta.db_table)} c "
            f"ON c.{quote('id')} = l.{quote('course_id')} WHERE l.{quote('token_hash')} = %s")


def learner(token_hash: str) -> Learner | None:
    """The learner whose token hashes to `token_hash`, with their course."""
    with connection.cursor() as cursor:
        cursor.execute(_learner_sql(connection.vendor), [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(fields(Learner))
    found: Learner = made(Learner, row[:split])
    found.course = made(Course, row[split:])
    return found


@functools.cache
def _since_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT {quote('received_at')} FROM {quote(Submission._meta.db_table)} "
            f"WHERE {quote('learner_id')} = %s AND {quote('received_at')} > %s")


def received_since(learner_id: int, moment: datetime) -> list[datetime]:
    """When each of the learner's uploads since `moment` was received."""
    with connection.cursor() as cursor:
        cursor.execute(_since_sql(connection.vendor),
                       [learner_id, connection.ops.adapt_datetimefield_value(moment)])
        return [read(Submission, "received_at", value) for (value,) in cursor.fetchall()]
