"""Shared fixtures: the shipped course, one sandbox for the session, the real CLI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.authoring.markers import strip_markers
from grader.course import Course, Exercise, load_course
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parents[1]

# Ctrl-C as a terminal delivers it, whatever started the tests: a run started in the
# background by a shell (`... &`) inherits SIGINT ignored, and so would every `grade` the
# tests start (Python installs no KeyboardInterrupt handler then): the Ctrl-C tests'
# batches would finish, and `_thread.interrupt_main` (the portable box's alarm) would do
# nothing. A handled signal is reset to its default at exec, so the children get it too.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="session")
def grader(course: Course, sandbox: Sandbox) -> Grader:
    return Grader(course, sandbox)


def exercise_of(course: Course, exercise_id: str) -> Exercise:
    exercise = course.exercise(exercise_id)
    assert exercise is not None, exercise_id
    return exercise


@pytest.fixture
def grade_text(grader: Grader, course: Course):
    """Grade source text as exercise `exercise_id`; returns the ExerciseResult."""

    def run(exercise_id: str, source: str, filename: str = "submission.py") -> ExerciseResult:
        return grader.grade_source(exercise_of(course, exercise_id), source, filename)

    return run


@pytest.fixture
def mutant(course: Course):
    """A solution's text with `old` replaced by `new` (exactly once: the test fails otherwise)."""

    def make(exercise_id: str, old: str, new: str) -> str:
        solution = course.solution_path(exercise_of(course, exercise_id)).read_text()
        text = strip_markers(solution)  # the code, without the authoring markers
        assert text.count(old) == 1, f"{old!r} must occur once in the {exercise_id} solution"
        return text.replace(old, new)

    return make


COURSE_PARTS = ("course.yaml", "exercises", "solutions", "checks")


def copy_course(target: Path) -> Path:
    """A copy of the shipped course at `target` (a learner's own clone), returned."""
    target.mkdir(parents=True, exist_ok=True)
    for part in COURSE_PARTS:
        source = ROOT / part
        shutil.copytree(source, target / part) if source.is_dir() else shutil.copy(
            source, target / part)
    return target


def grade_command() -> list[str]:
    """The installed `grade` console script (next to this Python), else `python -m grader`."""
    script = Path(sys.executable).with_name("grade")
    if script.exists():
        return [str(script)]
    found = shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


@pytest.fixture
def run_grade():
    """Run the real `grade` command in a subprocess; returns the CompletedProcess."""

    def run(*args: str, cwd: Path = ROOT, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        # The course comes from cwd or --course, never from the developer's shell; and
        # no learner's progress (.grade/) is read or left, unless a test sets GRADE_PROGRESS.
        environment = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
        environment["GRADE_PROGRESS"] = "off"
        environment.update(env or {})
        return subprocess.run([*grade_command(), *args], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout, env=environment)

    return run


def graded_in_full(course_file: Path, exercise_id: str, file: Path) -> str:
    """The terminal report of `file` made by the whole grader (course and result models),
    as `grade exercise-N` prints it to a pipe: what a file with blanks must match."""
    import click

    from grader.reports.text import render
    from grader.results import ErrorKind
    from grader.sandbox.inprocess import InProcessBoxes

    course = load_course(course_file)
    exercise = course.exercise(exercise_id)
    assert exercise is not None
    result = Grader(course, InProcessBoxes()).grade(exercise, file)
    assert result.error_kind is ErrorKind.BLANKS, result.error  # never reached a box
    return click.unstyle(render(result, exercise.title)) + "\n"


@pytest.fixture(scope="session")
def gradescope_export(tmp_path_factory: pytest.TempPathFactory
                      ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The course's Gradescope autograder zip and the command's run, exported once for
    every test that unpacks it (the export fetches wheels for four Pythons: minutes)."""
    zip_path = tmp_path_factory.mktemp("gradescope-export") / "autograder.zip"
    done = subprocess.run([*grade_command(), "export", "gradescope", str(zip_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return zip_path, done
