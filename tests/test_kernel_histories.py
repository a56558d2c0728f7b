"""Real kernel histories, graded by both Jupyter paths and by `grade` on the saved notebook.

Each history runs on a fresh real kernel (nbclient), cell by cell as a learner does in
JupyterLab (which sends each cell's id with its run): out of order, with runs that
raise or do not parse, fixes run again, Run All without a restart. Then the grading
cell (`grader.check()`) and nbgrader's check cells (`run_check`) grade the kernel;
both must give the score `grade exercise-1` gives the notebook as it would be saved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from grader.authoring.markers import strip_markers
from grader.course import Course
from grader.notebooks.build import SETUP_CELL, split_module
from grader.runner import Grader
from tests.conftest import ROOT

FILE = "exercise_1_weighted_sampling"
SOLUTION = split_module(strip_markers((ROOT / "solutions" / f"{FILE}.py").read_text())).cells
SKELETON = split_module((ROOT / "exercises" / f"{FILE}.py").read_text()).cells
IMPORTS, WEATHER, SAMPLE, DEMO = SOLUTION
BLANK_WEATHER, BLANK_SAMPLE = SKELETON[1], SKELETON[2]
BROKEN_SAMPLE = SAMPLE.replace("def sample(dist):", "def sample(dist)")
TWO_WEATHERS = WEATHER.split('    "cloudy"')[0] + "}"  # a dict without "cloudy"...
CLOUDY = 'weather["cloudy"] = 0.3'  # ...completed in a cell of its own
GRADE = 'import grader\ngrader.check("exercise-1")'
CHECKS = (ROOT / "checks" / "exercise_1.py").read_text()
NBGRADER = f"""# grade-check: every check, as nbgrader's test cells run them
from grader.notebooks import kernel as _k
_total = 0.0
for _c in _k.register_checks("exercise-1", {CHECKS!r}):
    try:
        _k.run_check("exercise-1", _c.id)
        _total += _c.points
    except AssertionError:
        pass
print("nbgrader score:", _total)
"""


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


class Lab:
    """A real kernel driven as JupyterLab drives it: each run carries its cell's id."""

    def __init__(self, client: NotebookClient) -> None:
        self.client = client
        self.cell_id: str | None = None
        self.send_ids = True
        session = client.kc.session
        make = session.msg

        def msg(msg_type: str, content: Any = None, parent: Any = None, header: Any = None,
                metadata: Any = None) -> Any:
            if msg_type == "execute_request" and self.send_ids and self.cell_id:
                metadata = {**(metadata or {}), "cellId": self.cell_id}  # as JupyterLab does
            return make(msg_type, content, parent, header, metadata)

        session.msg = msg

    def run(self, cell_id: str, source: str) -> list[dict[str, Any]]:
        cell = v4.new_code_cell(source)
        self.cell_id = cell_id
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        return list(cell.outputs)


@contextmanager
def started(**env: str) -> Iterator[Lab]:
    client = NotebookClient(v4.new_notebook(), timeout=120, kernel_name="python3",
                            allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "exercises")}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_PROGRESS", "off")  # the kernel records nothing in the repository
        patch.delenv("JPY_SESSION_NAME", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        with client.setup_kernel():
            yield Lab(client)


@pytest.fixture
def lab() -> Iterator[Lab]:
    with started() as kernel:
        yield kernel


def text_of(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for output in outputs:
        if output.get("output_type") == "display_data":
            parts.append(output["data"]["text/plain"])
        elif output.get("output_type") == "stream":
            parts.append(output["text"])
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(parts)


def inline_score(lab: Lab) -> float:
    text = text_of(lab.run("grade", GRADE))
    found = re.search(r"Score: ([\d.]+)/10", text)
    assert found, fail(text, "Score: N/10", "grader.check() shows a score")
    return float(found.group(1))


def nbgrader_score(lab: Lab) -> float:
    text = text_of(lab.run("nbgrader-checks", NBGRADER))
    found = re.search(r"nbgrader score: ([\d.]+)", text)
    assert found, fail(text, "nbgrader score: N", "the check cells ran")
    return float(found.group(1))


def saved_score(grader: Grader, course: Course, tmp: Path, screen: list[tuple[str, str]]
                ) -> float:
    """`grade exercise-1` on the notebook as saved: each cell's final text, in screen order."""
    cells = [v4.new_code_cell(source, id=cell_id) for cell_id, source in screen]
    path = tmp / f"{FILE}.ipynb"
    nbformat.write(v4.new_notebook(cells=[*cells, v4.new_code_cell(GRADE, id="grade")]), path)
    return grader.grade(course.exercises[0], path).score


def replay(lab: Lab, runs: list[tuple[str, str]]) -> None:
    for cell_id, source in runs:
        lab.run(cell_id, source)


SCREEN = [("setup", SETUP_CELL), ("code-1", IMPORTS), ("code-2", WEATHER),
          ("code-3", SAMPLE), ("code-4", DEMO)]
HISTORIES = {
    # The demo first (NameError: sample), then the function, then the demo again.
    "demo_before_its_function": (
        [("setup", SETUP_CELL), ("code-1", IMPORTS), ("code-2", WEATHER), ("code-4", DEMO),
         ("code-3", SAMPLE), ("code-4", DEMO)], SCREEN),
    # A syntax error, fixed and run again.
    "syntax_error_fixed_later": (
        [("setup", SETUP_CELL), ("code-1", IMPORTS), ("code-2", WEATHER),
         ("code-3", BROKEN_SAMPLE), ("code-3", SAMPLE), ("code-4", DEMO)], SCREEN),
    # Blanks run first (the demo fails on them), filled and run again.
    "blanks_filled_and_rerun": (
        [("setup", SETUP_CELL), ("code-1", IMPORTS), ("code-2", BLANK_WEATHER),
         ("code-3", BLANK_SAMPLE), ("code-4", DEMO), ("code-2", WEATHER),
         ("code-3", SAMPLE), ("code-4", DEMO)], SCREEN),
    # Cells run out of order with a failure, then Run All without a restart.
    "run_all_without_a_restart": (
        [("setup", SETUP_CELL), ("code-4", DEMO), ("code-3", SAMPLE), ("code-2", WEATHER),
         *SCREEN], SCREEN),
    # The dict completed by an item assignment in a cell of its own: not a redefinition.
    "an_item_set_in_a_later_cell": (
        [("setup", SETUP_CELL), ("code-1", IMPORTS), ("code-2", TWO_WEATHERS),
         ("cloudy", CLOUDY), ("code-3", SAMPLE), ("code-4", DEMO)],
        [*SCREEN[:2], ("code-2", TWO_WEATHERS), ("cloudy", CLOUDY), *SCREEN[3:]]),
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
@pytest.mark.parametrize("front_end", ["jupyterlab", "without_cell_ids"])
def test_both_jupyter_paths_give_the_score_grade_gives_the_saved_notebook(
        lab: Lab, grader: Grader, course: Course, tmp_path: Path, name: str,
        front_end: str) -> None:
    runs, screen = HISTORIES[name]
    lab.send_ids = front_end == "jupyterlab"
    replay(lab, runs)
    expected = saved_score(grader, course, tmp_path, screen)
    assert expected == 10, fail(expected, 10, "the saved notebook is a right answer")
    inline = inline_score(lab)
    assert inline == expected, fail(inline, expected, f"grader.check() after {name}")
    nbgrader = nbgrader_score(lab)
    assert nbgrader == expected, fail(nbgrader, expected, f"nbgrader's path after {name}")


def test_a_failure_nothing_replaced_still_counts_as_in_the_saved_notebook(
        lab: Lab, grader: Grader, course: Course, tmp_path: Path) -> None:
    screen = [*SCREEN[:3], ("code-3", BROKEN_SAMPLE), SCREEN[4]]
    replay(lab, screen)
    expected = saved_score(grader, course, tmp_path, screen)
    assert inline_score(lab) == nbgrader_score(lab) == expected == 0
    text = " ".join(text_of(lab.run("grade", GRADE)).split())
    assert 'the cell "def sample(dist)", line 1' in text, fail(
        text, 'the cell "def sample(dist)"', "name the cell by its first line, as seen")


def test_the_saved_notebook_starts_with_the_setup_cell(course: Course) -> None:
    notebook = json.loads((ROOT / "exercises" / f"{FILE}.ipynb").read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == SETUP_CELL


def test_a_cell_is_named_by_its_place_in_the_saved_notebook_when_jupyter_names_it(
        grader: Grader, course: Course, tmp_path: Path) -> None:
    screen = [*SCREEN[:3], ("code-3", BROKEN_SAMPLE), SCREEN[4]]
    saved_score(grader, course, tmp_path, screen)  # the notebook as Jupyter saved it
    path = tmp_path / f"{FILE}.ipynb"
    expected = grader.grade(course.exercises[0], path).error
    assert expected is not None and "code cell 4, line 1" in expected
    with started(JPY_SESSION_NAME=str(path)) as kernel:  # as Jupyter Server sets it
        replay(kernel, screen)
        text = " ".join(text_of(kernel.run("grade", GRADE)).split())
    assert expected in text, fail(text, expected, "the same words as grade on the saved file")
