"""The course: what course.yaml says, as validated pydantic models."""

from grader.course.load import ConfigError, ConfigProblem, find_course, load_course
from grader.course.model import Course, Exercise, Limits, Withheld

__all__ = ["ConfigError", "ConfigProblem", "Course", "Exercise", "Limits", "Withheld",
           "find_course", "load_course"]
