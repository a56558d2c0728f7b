"""The course: what course.yaml says, as validated pydantic models.

The models load on first use (PEP 562): `grade --help` finds the course and lists
its exercises from the cache without importing pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.course.load import ConfigError, ConfigProblem, find_course, load_course

if TYPE_CHECKING:
    from grader.course.model import Course, Exercise, LatePolicy, Limits, Withheld

__all__ = ["ConfigError", "ConfigProblem", "Course", "Exercise", "LatePolicy", "Limits",
           "Withheld", "find_course", "load_course"]
_MODELS = ("Course", "Exercise", "LatePolicy", "Limits", "Withheld")


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from grader.course import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
