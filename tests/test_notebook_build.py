"""Notebook skeletons: valid nbformat 4, the task first, the skeleton's code and blanks."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from grader.course import Course
from grader.notebooks.build import SETUP_CELL, notebook_name, split_module, write_notebooks


def test_committed_notebooks_are_regenerated_byte_for_byte(course: Course,
                                                           tmp_path: Path) -> None:
    written = write_notebooks(course, tmp_path)
    assert [p.name for p in written] == [notebook_name(e) for e in course.exercises] == [
        "exercise_1_weighted_sampling.ipynb", "exercise_2_generator.ipynb",
        "exercise_3_tiny_language_model.ipynb"]
    for path in written:
        committed = course.root / "exercises" / path.name
        assert committed.read_bytes() == path.read_bytes(), f"run `grade build`: {path.name}"


def test_notebooks_are_valid_and_hold_the_skeleton(course: Course, tmp_path: Path) -> None:
    for exercise, path in zip(course.exercises, write_notebooks(course, tmp_path), strict=True):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
        assert notebook.metadata.kernelspec.name == "python3"
        task, *rest = notebook.cells
        assert task.cell_type == "markdown"
        assert task.source.startswith(f"# Exercise {exercise.id[-1]} - ")
        assert f"`grade {exercise.id} {path.name}`" in task.source
        setup, *code, grading = [c.source for c in rest if c.cell_type == "code"]
        assert setup == SETUP_CELL  # from here on the kernel notes which runs failed
        assert grading == f'import grader\ngrader.check("{exercise.id}")'
        skeleton = course.learner_path(exercise).read_text()
        assert code == split_module(skeleton).cells
        # Every line of the skeleton's code is in the notebook, in order (the demo unindented).
        lines = skeleton.splitlines()
        end = next(i for i, ln in enumerate(lines) if i > 0 and ln.endswith('"""'))
        body = [ln.strip() for ln in lines[end + 1:]
                if ln.strip() and not ln.startswith("if __name__")]
        assert [ln.strip() for ln in "\n".join(code).splitlines() if ln.strip()] == body
        assert "".join(code).count("___") == "".join(body).count("___")


def test_cells_split_at_sections(course: Course) -> None:
    exercise = course.exercise("exercise-1")
    assert exercise is not None
    module = split_module(course.learner_path(exercise).read_text())
    assert [c.splitlines()[0] for c in module.cells] == [
        "import random", "# 1) The learned distribution: sunny + rainy + cloudy must add up to 1.",
        "def sample(dist):", "draws = [sample(weather) for _ in range(1000)]"]
    assert module.demo == 3
    assert module.docstring.startswith("Exercise 1 - Weighted sampling.")


def test_grade_build_writes_and_checks_notebooks(run_grade, course: Course,
                                                 tmp_path: Path) -> None:
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns(".venv", ".git", "*.ipynb"))
    run = run_grade("build", "--check", cwd=copy)
    assert run.returncode == 1
    assert "out of date: exercises/exercise_1_weighted_sampling.ipynb" in run.stdout
    assert "exercise_1_weighted_sampling.py\n" not in run.stdout
    run = run_grade("build", cwd=copy)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "wrote exercises/exercise_1_weighted_sampling.ipynb",
        "wrote exercises/exercise_2_generator.ipynb",
        "wrote exercises/exercise_3_tiny_language_model.ipynb"]
    assert run_grade("build", "--check", cwd=copy).returncode == 0
    for name in ("exercise_1_weighted_sampling.ipynb", "exercise_2_generator.ipynb"):
        assert (copy / "exercises" / name).read_bytes() == (
            course.root / "exercises" / name).read_bytes()
