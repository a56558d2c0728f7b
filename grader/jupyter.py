"""`grader.check("exercise-1")` in a notebook: grade what this kernel has run, inline.

The program is what this kernel holds now: each cell's last run, by the one rule
nbgrader's check cells use too (`grader.runner.inputs`), without the grading cell
itself: no need to save the notebook first. It is graded like `grade exercise-1
notebook.ipynb`, in the strongest sandbox this machine allows (one per kernel,
started on first use), and shown as HTML with a plain-text fallback.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from grader.course import ConfigError, Course, Exercise, find_course, load_course
from grader.notebooks.history import kernel_runs
from grader.reports.notebook import NotebookReport
from grader.results import ErrorKind, ExerciseResult
from grader.runner import Failure, Grader
from grader.runner.inputs import Run, kernel_source
from grader.sandbox.client import Sandbox

_state: dict[str, Any] = {}  # this kernel's sandbox, started on first use


def _defines(node: ast.AST) -> set[str]:
    """The names one statement binds by `def`, `class` or assignment."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def defined_names(source: str, top_level: bool) -> set[str] | None:
    """Names `source` defines (at top level, outside its `__main__` demo, if `top_level`);
    None if it does not parse (the grader names the syntax error itself)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    if not top_level:
        return {name for node in ast.walk(tree) for name in _defines(node)}
    demo = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    return {name for node in tree.body if node not in demo for name in _defines(node)}


def not_run_message(course: Course, exercise: Exercise, source: str) -> str | None:
    """What the learner has not run yet, if the program lacks a name the exercise defines."""
    wanted = defined_names(course.learner_path(exercise).read_text("utf-8"), True) or set()
    have = defined_names(source, False)
    if have is None:
        return None
    missing = sorted(wanted - have)
    if not missing:
        return None
    shown = " and ".join(f"`{name}`" for name in missing)
    cells = "the cell that defines" if len(missing) == 1 else "the cells that define"
    return (f"you have not run {cells} {shown} yet (this kernel has not run any code that "
            "defines it): run that cell, or Run All, then run this cell again")


def sandbox() -> Sandbox:
    """This kernel's sandbox: started once, announced once, closed when the kernel exits."""
    if "sandbox" not in _state:
        from grader.cli.context import warn_weakened
        from grader.sandbox.levels import make_sandbox

        started = make_sandbox()
        started.start()
        atexit.register(started.close)
        warn_weakened(started)
        _state["sandbox"] = started
    box: Sandbox = _state["sandbox"]
    return box


def grade_history(exercise_id: str, history: list[Run], course_path: Path | None = None
                  ) -> tuple[ExerciseResult, str] | str:
    """(result, exercise title) for what the kernel holds after `history`, or why nothing
    was graded."""
    try:
        course = load_course(course_path or find_course())
    except ConfigError as exc:
        return str(exc)
    exercise = course.exercise(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in course.exercises)
        return f"no exercise named {exercise_id!r} in this course (exercises: {known})"
    started = time.monotonic()
    source = kernel_source(history, f"{exercise_id}.ipynb", saved_positions())
    grader = Grader(course, sandbox())
    if message := not_run_message(course, exercise, source.text):
        # MISSING: what the checks need was not handed in (not run in this kernel)
        failure = Failure(message, ErrorKind.MISSING)
        result = grader.catalogue.failed(exercise, failure, started)
    else:
        result = grader.grade_source(exercise, source, started=started)
    return recorded(course, exercise, result, source.text), exercise.title


def session_notebook() -> Path | None:
    """The notebook this kernel runs, when Jupyter Server named it (JPY_SESSION_NAME)."""
    named = os.environ.get("JPY_SESSION_NAME", "")
    for candidate in (Path(named), Path.cwd() / Path(named).name):
        if named.endswith(".ipynb") and candidate.is_file():
            return candidate
    return None


def notebook_path(course: Course, exercise: Exercise) -> Path:
    """The kernel's notebook; else the exercise's skeleton notebook, where learners work."""
    return session_notebook() or course.learner_path(exercise).with_suffix(".ipynb")


def saved_positions() -> dict[str, int]:
    """Cell id -> its number among the code cells of the kernel's saved notebook (empty
    when unknown or unreadable: cells are then named by their first line)."""
    path = session_notebook()
    try:
        cells = json.loads(path.read_text("utf-8"))["cells"] if path else []
        code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
        return {c["id"]: n for n, c in enumerate(code, 1) if isinstance(c.get("id"), str)}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return {}


def recorded(course: Course, exercise: Exercise, result: ExerciseResult,
             text: str) -> ExerciseResult:
    """`result` recorded in the learner's progress (so `grade status` shows notebook
    work), with each failed check's hint at its depth ("hint 2 of 3") as in a terminal:
    one deeper each time the kernel holds other code."""
    from grader.progress import Recorder

    changed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return Recorder(course).graded(exercise, result, notebook_path(course, exercise), changed)


def check(exercise_id: str, course: str | Path | None = None) -> None:
    """Grade the code this kernel has run as `exercise_id`, and display the report."""
    from IPython.display import display

    graded = grade_history(exercise_id, kernel_runs(), Path(course) if course else None)
    if isinstance(graded, str):
        print(f"error: {graded}")
        return
    display(NotebookReport(*graded))
