"""`grader.check("exercise-1")` in a real notebook, run by nbclient on a real kernel.

The learner's cells, run in the order a learner runs them (including a cell run
before its neighbour, and a fix run later), then the grading cell: the score
shown inline is the one `grade` gives, and learner output stays text in HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from grader.authoring.markers import strip_markers
from grader.checks import load_checks
from grader.course import Course
from grader.notebooks.build import split_module
from grader.runner import Grader
from tests.conftest import ROOT

FILE = "exercise_1_weighted_sampling"
SOLUTION = split_module(strip_markers((ROOT / "solutions" / f"{FILE}.py").read_text()))
IMPORTS, WEATHER, SAMPLE = SOLUTION.cells[:3]
WRONG_SAMPLE = SAMPLE.replace("if r < cumulative:", "if r > cumulative:")
GRADE = 'import grader\ngrader.check("exercise-1")'
SCRIPT = "<script>alert('owned')</script>"


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


class Kernel:
    """One real kernel, started in the course's exercises/ folder, running cells on demand."""

    def __init__(self, client: NotebookClient) -> None:
        self.client = client

    def run(self, source: str) -> list[dict[str, Any]]:
        cell = v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        return list(cell.outputs)


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    client = NotebookClient(v4.new_notebook(), timeout=120, kernel_name="python3",
                            allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "exercises")}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_PROGRESS", "off")  # the kernel records nothing in the repository
        with client.setup_kernel():
            yield Kernel(client)


def shown(outputs: list[dict[str, Any]]) -> tuple[str, str]:
    """(HTML, plain text) of the report the grading cell displayed."""
    for output in outputs:
        if output.get("output_type") == "display_data":
            return output["data"]["text/html"], output["data"]["text/plain"]
    raise AssertionError(f"no report displayed: {json.dumps(outputs)[:800]}")


def test_a_learner_who_has_not_run_the_cell_defining_sample_is_told_so(kernel: Kernel) -> None:
    kernel.run(IMPORTS)
    kernel.run(WEATHER)
    html, text = shown(kernel.run(GRADE))
    expected = "you have not run the cell that defines `sample` yet"
    assert expected in text, fail(text, expected, "name what was not run")
    assert "Score: 0/10" in text and "Score: 0/10" in html


def test_a_correct_sampler_scores_full_marks_inline(kernel: Kernel) -> None:
    kernel.run(SAMPLE)
    html, text = shown(kernel.run(GRADE))
    assert "Score: 10/10" in text and "Score: 10/10" in html, text
    checks = load_checks(ROOT / "checks" / "exercise_1.py")
    assert html.count("&#10003;") == len(checks)  # one tick per check, all passed


def test_a_wrong_sampler_run_later_scores_what_grade_gives_with_its_histogram(
        kernel: Kernel) -> None:
    kernel.run(WRONG_SAMPLE)  # the kernel now holds the wrong one: that is what counts
    html, text = shown(kernel.run(GRADE))
    assert "Score: 6/10" in text and "Score: 6/10" in html, text
    assert "hint:" in text and "outcome  expected" in text  # hint and histogram
    assert "<pre" in html and "outcome  expected" in html


def test_learner_output_stays_text_in_the_html_report(kernel: Kernel) -> None:
    kernel.run(SAMPLE + f"\nprint({SCRIPT!r})")
    html, text = shown(kernel.run(GRADE))
    assert "Score: 10/10" in text
    assert SCRIPT not in html and "&lt;script&gt;" in html, html


def test_the_skeleton_notebook_ends_with_the_grading_cell_and_grades_like_grade(
        grader: Grader, course: Course) -> None:
    path = ROOT / "exercises" / f"{FILE}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[-1].source == GRADE
    client = NotebookClient(v4.new_notebook(), timeout=120, kernel_name="python3",
                            allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "exercises")}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_PROGRESS", "off")
        with client.setup_kernel():
            kernel = Kernel(client)
            outputs = [kernel.run(c.source) for c in notebook.cells if c.cell_type == "code"]
            html, text = shown(outputs[-1])
            saved = grader.grade(course.exercises[0], path).error  # what `grade` says
            assert saved is not None and saved.startswith("the blanks in code cell 3")
            # the same sentence, with each cell named as the learner sees it in the kernel
            expected = saved.replace(
                "code cell 3", 'the cell "# 1) The learned distribution: sunny + …"').replace(
                "code cell 4", 'the cell "def sample(dist):"')
            assert expected in " ".join(text.split()), fail(text, expected, "the same as grade")
            assert "Score: 0/10" in html
            # The learner fixes both cells and runs them again: the old ones no longer count.
            kernel.run(WEATHER)
            kernel.run(SAMPLE)
            html, text = shown(kernel.run(GRADE))
            assert "Score: 10/10" in text, text
