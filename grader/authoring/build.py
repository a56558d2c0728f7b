"""`grade build`: regenerate learners' files (`.py` and `.ipynb`) from the marked solutions.

`outputs` is the one place that says which files an exercise's solution produces;
a new kind of output (notebook skeletons, ...) is one more entry there.
"""

from __future__ import annotations

from pathlib import Path

from grader.authoring.markers import MarkerError, make_skeleton
from grader.authoring.problems import Problem
from grader.course import Course, Exercise
from grader.notebooks.build import notebook_text


class BuildError(Exception):
    """A solution a skeleton cannot be built from; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def relative(course: Course, path: Path) -> str:
    """`path` as the author sees it: relative to the course folder when inside it."""
    try:
        return str(path.resolve().relative_to(course.root.resolve()))
    except ValueError:
        return str(path)


def read_text(path: Path) -> str:
    """A file's text exactly as stored (no newline translation), for byte-exact builds."""
    return path.read_bytes().decode("utf-8")


def outputs(course: Course, exercise: Exercise) -> dict[Path, str]:
    """Every file built from `exercise`'s solution, with its text. Raises BuildError."""
    path = course.solution_path(exercise)
    where = relative(course, path)
    try:
        solution = read_text(path)
    except FileNotFoundError:
        raise BuildError([Problem(file=where, message="the solution file does not exist",
                                  exercise=exercise.id)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError([Problem(file=where, message=f"cannot read the solution: {exc}",
                                  exercise=exercise.id)]) from None
    try:
        skeleton = make_skeleton(solution)
    except MarkerError as exc:
        raise BuildError([Problem(file=where, line=line, message=message, exercise=exercise.id)
                          for line, message in exc.problems]) from None
    notebook = course.learner_path(exercise).with_suffix(".ipynb")
    return {course.learner_path(exercise): skeleton.text,
            notebook: notebook_text(exercise, skeleton.text)}


def stale(path: Path, text: str) -> bool:
    """Whether the file at `path` differs from `text` (or is missing)."""
    try:
        return read_text(path) != text
    except (OSError, UnicodeDecodeError):
        return True


def build_course(course: Course, *, exercises: list[Exercise] | None = None,
                 check: bool = False) -> list[Path]:
    """Write every out-of-date built file; return their paths.

    With `check=True` nothing is written: the paths are the files that are out of
    date. Raises BuildError with the problems of every exercise that cannot be built,
    before writing anything.
    """
    planned: dict[Path, str] = {}
    problems: list[Problem] = []
    for exercise in exercises if exercises is not None else course.exercises:
        try:
            planned.update(outputs(course, exercise))
        except BuildError as exc:
            problems += exc.problems
    if problems:
        raise BuildError(problems)
    changed = [path for path, text in planned.items() if stale(path, text)]
    if not check:
        for path in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(planned[path], encoding="utf-8", newline="")
    return changed
