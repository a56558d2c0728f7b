"""Prepared SQL for the server's hot paths, made from the models' own metadata: the
ORM's query building (filters, lookups, compiling) costs several times the indexed
statements themselves, and uploads, looks and the dispatcher's rounds run them most.
Rows read are converted as the ORM converts them and made into the models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


def fields(model: type[Model]) -> list[Field[Any, Any]]:
    return list(model._meta.concrete_fields)


_CONVERTERS: dict[tuple[str, str], list[list[Converter]]] = {}


def _converters(model: type[Model]) -> list[list[Converter]]:
    """For each field of `model`, the backend's and the field's converters (the ORM's)."""
    key = (connection.vendor, model._meta.label)
    if key not in _CONVERTERS:
        _CONVERTERS[key] = [
            [*connection.ops.get_db_converters(field.get_col(model._meta.db_table)),
             *field.get_db_converters(connection)] for field in fields(model)]
    return _CONVERTERS[key]


def made(model: type[Model], row: Sequence[Any]) -> Any:
    """`row` (every concrete field, in order) as an instance of `model`."""
    every = fields(model)
    values = []
    for value, field, steps in zip(row, every, _converters(model), strict=True):
        for step in steps:
            value = step(value, field.get_col(model._meta.db_table), connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in every], values)


def columns(model: type[Model], alias: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in fields(model))


def quote(name: str) -> str:
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
