"""Prepared SQL for the server's hot paths, made from the models' own metadata: the
ORM's query building (filters, lookups, compiling) costs several times the indexed
statements themselves, and uploads, looks and the dispatcher's rounds run them most.
Rows read are converted as the ORM converts them and made into the models."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


def fields(model: type[Model]) -> list[Field[Any, Any]]:
    return list(model._meta.concrete_fields)


_CONVERTERS: dict[str, list[tuple[list[Converter], Any]]] = {}
_COLUMNS: dict[tuple[str, str], str] = {}


def _converters(model: type[Model]) -> list[tuple[list[Converter], Any]]:
    """For each field of `model`, the backend's and the field's converters (the ORM's),
    and the column expression they are given."""
    key = model._meta.label
    if key not in _CONVERTERS:
        found = []
        for field in fields(model):
            column = field.get_col(model._meta.db_table)
            found.append(([*connection.ops.get_db_converters(column),
                           *field.get_db_converters(connection)], column))
        _CONVERTERS[key] = found
    return _CONVERTERS[key]


def made(model: type[Model], row: Sequence[Any]) -> Any:
    """`row` (every concrete field, in order) as an instance of `model`."""
    values = []
    for value, (steps, column) in zip(row, _converters(model), strict=True):
        for step in steps:
            value = step(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields(model)], values)


def read(model: type[Model], name: str, raw: Any) -> Any:
    """One value of field `name` of `model` as read from the database, converted."""
    index = [f.name for f in fields(model)].index(name)
    steps, column = _converters(model)[index]
    for step in steps:
        raw = step(raw, column, connection)
    return raw


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of `model`, in field order, as `alias`.column."""
    key = (model._meta.label, alias)
    if key not in _COLUMNS:
        _COLUMNS[key] = ", ".join(f"{alias}.{quote(f.column)}" for f in fields(model))
    return _COLUMNS[key]


@functools.cache
def quote(name: str) -> str:
    """`name` quoted for the database (one per server process: cached)."""
    return str(connection.ops.quote_name(name))


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


# Field classes whose preparation leaves a value of exactly this type unchanged (and
# None as None): such values skip the ORM's preparation, which is most of an INSERT's
# Python time (a submission has 29 fields). Exact classes: a subclass may prepare more.
_PLAIN: dict[type[Any], tuple[type[Any], ...]] = {
    models.CharField: (str,), models.TextField: (str,), models.IntegerField: (int,),
    models.SmallIntegerField: (int,), models.BigIntegerField: (int,),
    models.FloatField: (float,), models.BooleanField: (bool,),
    models.DateTimeField: (),  # None only: a datetime is adapted to the backend
    models.AutoField: (int,), models.BigAutoField: (int,)}


def _kept(field: Field[Any, Any]) -> tuple[type[Any], ...] | None:
    """The types of value `field` stores as given (None too); None: prepare each value."""
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        # the ORM stores "" in a foreign key as NULL, so only an integer key is kept as is
        return _PLAIN.get(type(target)) if type(target) in (models.AutoField,
                                                           models.BigAutoField) else None
    return _PLAIN.get(type(field))


def _prepared(field: Field[Any, Any], kept: tuple[type[Any], ...] | None, given: Any) -> Any:
    if kept is not None and (given is None or type(given) in kept):
        return given
    return field.get_db_prep_save(given, connection)


def insert(model: type[Model], rows: Sequence[Model]) -> None:
    """INSERT `rows` (every concrete field but an automatic id; any other primary key
    already set), several per statement, each value prepared as the ORM prepares it."""
    every = [(f, _kept(f)) for f in fields(model) if f is not model._meta.auto_field]
    one = "(" + ", ".join(["%s"] * len(every)) + ")"
    names = ", ".join(quote(f.column) for f, _ in every)
    step = max(1, 900 // len(every))  # under SQLite's oldest limit of 999 variables
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            part = rows[start:start + step]
            cursor.execute(f"INSERT INTO {table(model)} ({names}) VALUES "
                           f"{', '.join([one] * len(part))}",
                           [_prepared(field, kept, getattr(row, field.attname))
                            for row in part for field, kept in every])
    for row in rows:  # saved, as the ORM's save() leaves them
        row._state.adding, row._state.db = False, connection.alias


def value(model: type[Model], name: str, given: Any) -> Any:
    """`given` as the ORM prepares field `name` of `model` for the database."""
    return model._meta.get_field(name).get_db_prep_save(given, connection)
