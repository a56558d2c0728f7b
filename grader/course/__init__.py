"""The course: what course.yaml says, as validated pydantic models.

Everything loads on first use (PEP 562): `grade --help` finds the course and lists
its exercises from the cache without importing pydantic, and a learner's command
reads the cache's index (`sidecar`) before even `typing` or `pathlib` import.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own is an import (mypy knows this name as well)
if TYPE_CHECKING:
    from typing import Any

    from grader.course.load import ConfigError, ConfigProblem, find_course, load_course
    from grader.course.model import Course, Exercise, LatePolicy, Limits, Withheld

__all__ = ["ConfigError", "ConfigProblem", "Course", "Exercise", "LatePolicy", "Limits",
           "Withheld", "find_course", "load_course"]
_MODELS = ("Course", "Exercise", "LatePolicy", "Limits", "Withheld")
_LOAD = ("ConfigError", "ConfigProblem", "find_course", "load_course")


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from grader.course import model

        return getattr(model, name)
    if name in _LOAD:
        from grader.course import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
