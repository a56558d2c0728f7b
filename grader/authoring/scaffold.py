"""`grade new`: a marked solution, a checks file and a course.yaml entry that pass at once.

course.yaml is edited as text (the entry is appended after the last exercise), so
the author's comments and layout survive; the result is validated before it is kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from grader.authoring.build import build_course
from grader.course import ConfigError, Course, Exercise, load_course

POINTS = 2

SOLUTION = '''"""{heading} - {title}.

Replace this paragraph: say what learners build, and why it matters.

Fill in the blank marked ___ and check your work with:  grade {id}
"""


def double(x):
    """Twice `x`: an example to replace with your exercise."""
    return 2 * x  # BLANK: 2 * x | return twice x
'''

CHECKS = '''"""Checks for {id}, {title}.

A check is a `test_*` function with `@check(name, points)`: learners see the name,
and the points of all checks add up to `points:` in course.yaml. Checks are public:
`grade release` ships them to learners, so they must hold no line of the solution;
`@check(..., visibility="hidden")` keeps one back for grading only. It passes by
returning (optionally a short note) and fails with `fail(observed, expected,
hint=...)`. Learner code runs in the sandbox; give every call that draws random
numbers a `seed=`, so a verdict never changes between runs (docs/authoring.md).
"""

from __future__ import annotations

from grader.checks import Submission, check, fail


@check("double returns twice its argument", points={points})
def test_double(submission: Submission) -> None:
    double = submission.function("double")
    for x in [0, 1, -3, 2.5]:
        got = double(x)
        if got != 2 * x:
            fail(f"double({{x!r}}) returned {{got!r}}", repr(2 * x),
                 hint="multiply the argument by two")
'''


class ScaffoldError(Exception):
    """The exercise cannot be added; the message says why."""


def slug(text: str, words: int = 4) -> str:
    """`Markov chains: a first look` -> `markov_chains_a_first`."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower())[:words])


def _scalar(value: str | float) -> str:
    """`value` as a YAML scalar: plain when it reads back unchanged, else JSON-quoted."""
    if isinstance(value, float):
        return f"{value:g}"
    plain = str(value)
    try:
        if yaml.safe_load(f"key: {plain}") == {"key": plain}:
            return plain
    except yaml.YAMLError:
        pass
    return json.dumps(plain, ensure_ascii=False)


def _last_line(node: yaml.Node) -> int:
    """0-based line of the last character that belongs to `node`."""
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    if children:
        return max(_last_line(child) for child in children)
    mark = node.end_mark
    return mark.line - 1 if mark.column == 0 and mark.line > node.start_mark.line else mark.line


def append_exercise(text: str, entry: dict[str, str | float]) -> str:
    """course.yaml's `text` with `entry` appended to its `exercises` list, layout kept."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    exercises = None
    if isinstance(root, yaml.MappingNode):
        exercises = next((v for k, v in root.value if k.value == "exercises"), None)
    if not isinstance(exercises, yaml.SequenceNode) or not exercises.value:
        raise ScaffoldError("course.yaml has no list of exercises to add to")
    if exercises.flow_style:
        raise ScaffoldError("course.yaml writes exercises as a [flow] list; "
                            "add the entry by hand")
    lines = text.splitlines(keepends=True)
    last = exercises.value[-1]
    dash = lines[last.start_mark.line][: last.start_mark.column]
    if not re.fullmatch(r"\s*-\s+", dash):
        raise ScaffoldError("cannot tell how course.yaml indents its exercises; "
                            "add the entry by hand")
    indent = " " * len(dash)
    block = [f"{dash if i == 0 else indent}{key}: {_scalar(value)}\n"
             for i, (key, value) in enumerate(entry.items())]
    after = _last_line(last) + 1
    if after > 0 and not lines[after - 1].endswith("\n"):
        lines[after - 1] += "\n"
    return "".join(lines[:after] + block + lines[after:])


def _field_error(error: ErrorDetails) -> str:
    field = ".".join(map(str, error["loc"]))
    if field == "id":
        return (f"invalid ID {error['input']!r}: use lowercase letters, digits and single "
                "dashes, e.g. exercise-4")
    if field in ("file", "solution"):
        return f"invalid file name {error['input']!r}: letters, digits, _ . - ending in .py"
    return f"{field}: {error['msg']}"


def _heading(exercise_id: str) -> str:
    return exercise_id.replace("-", " ").capitalize()


def new_exercise(course: Course, course_file: Path, exercise_id: str, title: str, *,
                 file: str | None = None, reserved: frozenset[str] = frozenset()) -> list[Path]:
    """Add an exercise to the course at `course_file`; return the files written or changed."""
    if course.exercise(exercise_id):
        raise ScaffoldError(f"the course already has an exercise {exercise_id!r}")
    if exercise_id in reserved:
        raise ScaffoldError(f"{exercise_id!r} is a grade command; choose another id")
    stem = exercise_id.replace("-", "_")
    file = file or "_".join(filter(None, [stem, slug(title)])) + ".py"
    checks_dir = Path(course.exercises[-1].checks).parent
    try:
        exercise = Exercise(id=exercise_id, title=title, file=file, solution=file,
                            checks=(checks_dir / f"{stem}.py").as_posix(), points=POINTS)
    except ValidationError as exc:
        raise ScaffoldError("; ".join(_field_error(e) for e in exc.errors())) from None
    solution, checks = course.solution_path(exercise), course.checks_path(exercise)
    for path in (solution, checks, course.learner_path(exercise)):
        if path.exists():
            raise ScaffoldError(f"{path} already exists; choose another id or --file")
    entry: dict[str, str | float] = {
        "id": exercise.id, "title": exercise.title, "file": exercise.file,
        "solution": solution.name, "checks": exercise.checks, "points": float(POINTS)}
    text = course_file.read_bytes().decode("utf-8")
    updated = append_exercise(text, entry)
    course_file.write_text(updated, encoding="utf-8", newline="")
    try:
        new_course = load_course(course_file)
    except ConfigError as exc:
        course_file.write_text(text, encoding="utf-8", newline="")
        raise ScaffoldError(f"the new entry would break course.yaml, so it was not added: "
                            f"{exc}") from None
    # The title goes inside docstrings: a backslash or quote must not end or break them.
    safe_title = title.replace("\\", "\\\\").replace('"', '\\"')
    values = {"id": exercise_id, "title": safe_title, "heading": _heading(exercise_id),
              "file": file, "points": POINTS}
    for path, template in ((solution, SOLUTION), (checks, CHECKS)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    added = new_course.exercise(exercise_id)
    built = build_course(new_course, exercises=[added] if added else [])
    return [solution, checks, course_file, *built]
