"""A validated course.yaml kept beside it as JSON, so a command skips YAML and validation.

The cache is an optimisation, never a source of truth: it is used only when its key
(the hash of course.yaml, of the model's source and of the grader's version) matches,
and anything odd about it (missing, stale, corrupt, unwritable folder) means reading
course.yaml the slow way.
"""

from __future__ import annotations

import contextlib
import json
import types
import typing
from pathlib import Path
from typing import Any

from grader.course.sidecar import INDEX, index_text
from grader.course.sidecar import cache_key as cache_key

CACHE = Path(".grade") / "course-cache.json"  # inside the course folder, git-ignored
_PLAIN = (str, int, float, bool, type(None))
_EMPTY = (list, dict, set)  # default factories whose value is plainly empty


def _stored(course_file: Path, key: str) -> dict[str, Any] | None:
    try:
        stored = json.loads((course_file.parent / CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    return stored


def read_cache(course_file: Path, key: str) -> dict[str, Any] | None:
    """The cached, already validated course data for `key`, or None."""
    data = (_stored(course_file, key) or {}).get("course")
    return data if isinstance(data, dict) else None


def read_learner(course_file: Path, key: str) -> dict[str, Any] | None:
    """The cached learner's plan for `key` (see `write_cache`), or None."""
    plan = (_stored(course_file, key) or {}).get("learner")
    return plan if isinstance(plan, dict) else None


def write_cache(course_file: Path, key: str, data: dict[str, Any],
                learner: dict[str, Any] | None = None) -> None:
    """Keep `data` for the next command, with the `learner` plan: what `grade exercise-N`
    needs before the models load (course/plan.py, `Planned.entry`), and its index
    (course/sidecar.py: what it needs before anything imports). A read-only course
    folder simply has no cache."""
    from grader.atomic import write_atomic  # tempfile: only where the cache is (re)written

    with contextlib.suppress(OSError):  # two commands at once never mix bytes
        write_atomic(course_file.parent / CACHE,
                     json.dumps({"key": key, "course": data, "learner": learner or {}}))
        write_atomic(course_file.parent / INDEX, index_text(key, learner or {}))


def plain(model: Any) -> bool:
    """Whether every field of `model` (and of the models inside it) is a JSON value or
    a datetime with its time zone (cached as ISO 8601).

    Only such models can be rebuilt from cached JSON without validation; a field of
    another type sends the cache through the validator instead.
    """
    return all(_plain_type(field.annotation) for field in model.model_fields.values())


def construct(model: Any, data: dict[str, Any]) -> Any:
    """`model` from data it was dumped as (with exclude_unset), without validating again."""
    fields = {name: _rebuild(model.model_fields[name].annotation, value)
              for name, value in data.items() if name in model.model_fields}
    given = set(fields)  # what course.yaml set: a default below is not "set"
    for name, field in model.model_fields.items():
        factory = field.default_factory
        if name in fields:
            continue
        if hasattr(factory, "model_construct"):
            # A model's defaults (Course.limits: Limits()) made without validation too:
            # calling the factory built its validator, 1.5-2 ms of every command's start-up.
            fields[name] = factory.model_construct()
        elif factory in _EMPTY:
            # An empty list (Exercise.equivalent_mutants) made here: pydantic asks first
            # whether the factory takes the validated data, by inspect.signature(list),
            # whose first call compiles tokenize's patterns (2.5-4 ms before the fork).
            fields[name] = factory()
    return model.model_construct(_fields_set=given, **fields)


def _models(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return [annotation] if hasattr(annotation, "model_construct") else []


def _plain_type(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict):
        return all(_plain_type(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return all(type(arg) in _PLAIN for arg in typing.get_args(annotation))
    if hasattr(annotation, "model_construct"):
        return plain(annotation)
    return annotation in _PLAIN or _aware(annotation)


def _rebuild(annotation: Any, value: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(annotation)
        return [_rebuild(item, v) for v in value]
    if origin is dict and isinstance(value, dict):
        _, item = typing.get_args(annotation)
        return {k: _rebuild(item, v) for k, v in value.items()}
    if isinstance(value, dict):
        models = _models(annotation)
        if len(models) == 1:
            return construct(models[0], value)
    if isinstance(value, str) and _aware(annotation):
        from datetime import datetime  # here: a learner's plan has no dates to read

        moment = datetime.fromisoformat(value)  # ValueError: a corrupt cache
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return moment
    return value


def _aware(annotation: Any) -> bool:
    """Whether `annotation` is AwareDatetime, alone or in a union with None."""
    from pydantic import AwareDatetime  # here, not at the top: `grade --help` reads the
    # cache without pydantic; this runs only when the models are imported already

    return annotation is AwareDatetime or AwareDatetime in typing.get_args(annotation)
