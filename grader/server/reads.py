"""The reads of a learner's look at a submission, in prepared SQL.

Every waiting learner looks, so these run more than any other query; the ORM's query
building (filters, lookups, compiling) costs several times the indexed query itself.
The statements are made once from the models' own metadata, the rows converted as the
ORM converts them and made into the models (Model.from_db), so callers see no difference.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from grader.server.models import Course, Publication, Submission

Converter = Callable[[Any, Any, Any], Any]


def _fields(model: type[Model]) -> list[Field[Any, Any]]:
    return list(model._meta.concrete_fields)


_CONVERTERS: dict[tuple[str, str], list[list[Converter]]] = {}


def _converters(model: type[Model]) -> list[list[Converter]]:
    """For each field of `model`, the backend's and the field's converters (the ORM's)."""
    key = (connection.vendor, model._meta.label)
    if key not in _CONVERTERS:
        _CONVERTERS[key] = [
            [*connection.ops.get_db_converters(field.get_col(model._meta.db_table)),
             *field.get_db_converters(connection)] for field in _fields(model)]
    return _CONVERTERS[key]


def _made(model: type[Model], row: Sequence[Any]) -> Any:
    """`row` (every concrete field, in order) as an instance of `model`."""
    fields = _fields(model)
    values = []
    for value, field, steps in zip(row, fields, _converters(model),
                                   strict=True):
        for step in steps:
            value = step(value, field.get_col(model._meta.db_table), connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def _columns(model: type[Model], alias: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in _fields(model))


@functools.cache
def _own_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT {_columns(Submission, 's')}, {_columns(Course, 'c')} "
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
    split = len(_fields(Submission))
    job: Submission = _made(Submission, row[:split])
    job.course = _made(Course, row[split:])  # kept on the job: no query when it is read
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
