"""Reading course.yaml: YAML errors and validation errors become one clear message each.

YAML and pydantic's validator are imported only when the cache (course/cache.py)
cannot answer: most commands start from a cached, already validated course.
"""

# No `from __future__ import annotations`: a NamedTuple's field annotations given as text
# are each compiled by typing (course/plan.py says the cost).
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from grader.course import cache

if TYPE_CHECKING:
    import yaml
    from pydantic_core import ErrorDetails

    from grader.course.model import Course

COURSE_FILE = "course.yaml"


class ConfigProblem(NamedTuple):
    """One thing wrong with course.yaml: where (line, field) and what (a named tuple, not
    a dataclass: this module is on every learner's command, see course/plan.py)."""

    message: str
    line: int | None = None
    field: str | None = None
    code: str = "invalid"  # pydantic's error type, or: yaml, unreadable, duplicate_id

    @property
    def duplicate_id(self) -> bool:
        return self.code == "duplicate_id"

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field + ': ' if self.field else ''}{self.message}"


class ConfigError(Exception):
    """course.yaml is missing or wrong. `problems` holds one entry per problem."""

    def __init__(self, path: Path, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(f"{path}: {p}" for p in problems))
        self.path = path
        self.problems = problems


def find_course(start: Path | None = None) -> Path:
    """The course.yaml for `start`: $GRADE_COURSE, else the nearest one upwards."""
    if env := os.environ.get("GRADE_COURSE"):
        path = Path(env)
        return path / COURSE_FILE if path.is_dir() else path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder / COURSE_FILE
    raise ConfigError(here / COURSE_FILE, [ConfigProblem(
        "no course.yaml here or in any parent folder "
        "(run grade inside the course folder, or pass --course PATH)"
    )])


def _node_line(root: "yaml.Node | None", loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line in the YAML file of the value at `loc`, as deep as it exists."""
    import yaml

    node, line = root, None
    for key in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
            if node is None:  # a missing or unknown key: point at its parent
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _describe(error: "ErrorDetails", root: "yaml.Node | None") -> ConfigProblem:
    loc = tuple(error["loc"])
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check its spelling)"
    elif error["type"] == "missing":
        message = "required field is missing"
    from grader.course.model import DuplicateIdError

    duplicate = isinstance(error.get("ctx", {}).get("error"), DuplicateIdError)
    return ConfigProblem(message, _node_line(root, loc), field or "course",
                         "duplicate_id" if duplicate else str(error["type"]))


def cached_course(path: Path) -> dict[str, Any] | None:
    """The validated data of course.yaml at `path` if the cache holds it (no pydantic)."""
    try:
        return cache.read_cache(path, cache.cache_key(path.read_bytes()))
    except OSError:
        return None


def cached_plan(path: Path) -> dict[str, Any] | None:
    """The learner's plan of course.yaml at `path` (course/plan.py: each exercise's
    `Planned.entry`) if the cache holds it: no pydantic, no YAML."""
    try:
        return cache.read_learner(path, cache.cache_key(path.read_bytes()))
    except OSError:
        return None


def load_course(path: Path) -> "Course":
    """Read and validate course.yaml at `path` (or take it from the cache)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [ConfigProblem(f"cannot read: {exc}", code="unreadable")]) from None
    from grader.course.model import Course

    key = cache.cache_key(raw)
    data = cache.read_cache(path, key)
    course = None
    if data is not None:
        course = _from_cache(Course, data)
    if course is None:
        # here: a course from the cache needs no plan (its named tuples, ~0.8 ms of a
        # batch's start-up before the fork)
        from grader.course.plan import learner_plan

        course = _validate(path, text)
        cache.write_cache(path, key, course.model_dump(mode="json", exclude_unset=True),
                          learner_plan(course))
    return course.located(path.resolve().parent)


def _from_cache(model: "type[Course]", data: dict[str, Any]) -> "Course | None":
    """The course rebuilt from its cached data; None if the data are not what was
    cached (a corrupt or edited cache file), so course.yaml is read again."""
    try:
        return (cache.construct(model, data) if cache.plain(model)
                else model.model_validate(data))
    except (ValueError, TypeError, KeyError):  # pydantic's ValidationError is a ValueError
        return None


def _validate(path: Path, text: str) -> "Course":
    """course.yaml's text as a Course, or every problem with its line."""
    import yaml
    from pydantic import ValidationError

    from grader.course.model import Course

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", exc)
        raise ConfigError(path, [ConfigProblem(f"not valid YAML: {problem}",
                                               mark.line + 1 if mark else None,
                                               code="yaml")]) from None
    if not isinstance(data, dict):
        raise ConfigError(path, [ConfigProblem("must be a mapping with title and exercises")])
    try:
        course = Course.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [_describe(e, root) for e in exc.errors()]) from None
    return course
