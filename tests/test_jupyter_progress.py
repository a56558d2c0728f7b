"""Notebook work in the learner's loop: hints deepen inline, and `grade status` sees it.

A real kernel (nbclient) in a learner's own copy of the course, with progress on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nbclient import NotebookClient
from nbformat import v4

from grader.notebooks.build import SETUP_CELL
from tests.conftest import copy_course
from tests.test_kernel_histories import GRADE, IMPORTS, SAMPLE, WEATHER, text_of


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def weather(cloudy: str) -> str:
    return re.sub(r'"cloudy": [\d.]+', f'"cloudy": {cloudy}', WEATHER)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


@pytest.fixture
def run(home: Path) -> Iterator[Any]:
    client = NotebookClient(v4.new_notebook(), timeout=120, kernel_name="python3",
                            allow_errors=True,
                            resources={"metadata": {"path": str(home / "exercises")}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_PROGRESS", "on")
        patch.delenv("JPY_SESSION_NAME", raising=False)
        with client.setup_kernel():
            def execute(source: str) -> str:
                cell = v4.new_code_cell(source)
                client.nb.cells.append(cell)
                client.execute_cell(cell, len(client.nb.cells) - 1)
                return " ".join(text_of(list(cell.outputs)).split())
            yield execute


def test_hints_deepen_inline_as_the_learner_changes_the_code(run: Any) -> None:
    for cell in (SETUP_CELL, IMPORTS, weather("0.2"), SAMPLE):
        run(cell)
    first = run(GRADE)
    assert "(hint 1 of 3)" in first, fail(first, "(hint 1 of 3)", "the first hint, marked")
    assert "(hint 1 of 3)" in run(GRADE), "the same code: the same hint"
    run(weather("0.25"))
    second = run(GRADE)
    assert "(hint 2 of 3)" in second, fail(second, "(hint 2 of 3)", "other code: one deeper")


def test_notebook_work_reaches_grade_status(run: Any, home: Path, run_grade) -> None:
    for cell in (SETUP_CELL, IMPORTS, WEATHER, SAMPLE):
        run(cell)
    assert "Score: 10/10" in run(GRADE)
    status = run_grade("status", cwd=home, env={"GRADE_PROGRESS": "on"})
    line = next((ln for ln in status.stdout.splitlines() if "exercise-1" in ln), "")
    assert "10/10" in line and "exercise_1_weighted_sampling.ipynb" in status.stdout, fail(
        status.stdout, "exercise-1 10/10 from the notebook", "grade status sees notebook work")
