"""Results held by the thousand: validated pydantic models made lighter in place.

A batch of 1000 students x 3 exercises holds 3000 results until the exports, each
about 8 model instances (the result, its checks, their wrong answers). Two things
made up more than half of it (tracemalloc of the 3000 entries, 39.5 MiB), not the
data: each instance's `__pydantic_fields_set__`, a set of 5-13 field names (700
bytes for a check: 18.6 MiB in all), and the same texts (a check's name, "not run",
"public", a hint) parsed again into a new string for every student. `lighten` gives
every instance of a model one shared set and every text one copy: 16.7 MiB.

The shared set names every field of the model, as if each had been given: assigning
a field (the adjuster sets `score`) adds a name already in it, so no instance ever
changes another's. What that loses is `exclude_unset`, which no result's writer uses
(every result is written whole: the journal, grades.json, the --json contract).
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

from grader.kinds import CheckStatus, ErrorKind

_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}


def lighten(model: BaseModel) -> None:
    """Share `model`'s field-name set and its texts (and its sub-models', recursively)
    with every other lightened instance; its values and its JSON stay as they are."""
    share_field_names(model)
    values = model.__dict__
    for name, value in values.items():
        kind = type(value)
        if kind in _LEAVES:  # most values: numbers, flags, None, an enum member
            continue
        values[name] = _lighter(value)


def share_field_names(model: BaseModel) -> None:
    """Give `model` (not its sub-models) its model's one set of every field name."""
    kind = type(model)
    names = _EVERY_FIELD.get(kind)
    if names is None:
        names = _EVERY_FIELD[kind] = set(kind.model_fields)
    object.__setattr__(model, "__pydantic_fields_set__", names)


# Values with nothing to share. A str Enum member (CheckStatus) is one object already.
_LEAVES = frozenset({float, int, bool, type(None), CheckStatus, ErrorKind})


def _lighter(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return sys.intern(value)
    if kind is list:
        for index, item in enumerate(value):
            if type(item) not in _LEAVES:
                value[index] = _lighter(item)
    elif kind is dict:  # in place: the dict may be shared with its owner's caller
        lighter = {_lighter(key): _lighter(item) for key, item in value.items()}
        value.clear()
        value.update(lighter)
    elif isinstance(value, BaseModel):
        lighten(value)
    return value
