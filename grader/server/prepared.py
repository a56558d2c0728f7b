"""Prepared SQL for the server's hot paths, made from the models' own metadata: the
ORM's query building (filters, lookups, compiling) costs several times the indexed
statements themselves, and uploads, looks and the dispatcher's rounds run them most.
Rows read are converted as the ORM converts them and made into the models."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
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


def insert(model: type[Model], rows: Sequence[Model]) -> None:
    """INSERT `rows` (every concrete field but an automatic id; any other primary key
    already set), several per statement, each value prepared as the ORM prepares it."""
    every = [f for f in fields(model) if f is not model._meta.auto_field]
    one = "(" + ", ".join(["%s"] * len(every)) + ")"
    names = ", ".join(quote(f.column) for f in every)
    step = max(1, 900 // len(every))  # under SQLite's oldest limit of 999 variables
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            part = rows[start:start + step]
            cursor.execute(f"INSERT INTO {table(model)} ({names}) VALUES "
                           f"{', '.join([one] * len(part))}",
                           [field.get_db_prep_save(getattr(row, field.attname), connection)
                            for row in part for field in every])
    for row in rows:  # saved, as the ORM's save() leaves them
        row._state.adding, row._state.db = False, connection.alias


def value(model: type[Model], name: str, given: Any) -> Any:
    """`given` as the ORM prepares field `name` of `model` for the database."""
    return model._meta.get_field(name).get_db_prep_save(given, connection)
