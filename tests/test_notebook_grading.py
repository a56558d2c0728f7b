"""Grading learners' notebooks: the same verdict as the same code in a .py file."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from grader.authoring.markers import strip_markers
from grader.course import Course
from grader.notebooks.build import split_module
from grader.results import ExerciseResult
from grader.runner import Grader, SubmissionError
from grader.runner.notebook import join_cells, notebook_source

# A wrong answer per exercise: (old, new) in the solution.
WRONG = {
    "exercise-1": ("if r < cumulative:", "if r > cumulative:"),
    "exercise-2": ("word = random.choice(options)", "word = options[0]"),
    "exercise-3": ("word = random.choice(chain[word])", "word = chain[word][0]"),
}
# A broken answer per exercise: raises while the file loads.
BROKEN = {
    "exercise-1": ('"cloudy": 0.3,', '"cloudy": 0.3 / 0,'),
    "exercise-2": ("chain = {}", "chain = {} + 1"),
    "exercise-3": ("words = corpus.split()", "words = corpus.split("),
}


def write_notebook(path: Path, cells: list[str]) -> Path:
    notebook = v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells])
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


def with_magics(cells: list[str]) -> list[str]:
    """The same program as a notebook a learner might keep: magics, shell, help lines."""
    return [
        "%matplotlib inline\n!pip install --quiet nothing-at-all",
        f"%%time\n{cells[0]}",
        *cells[1:-1],
        "%%bash\necho this is not Python",
        f"random?\nlisting = !ls\n{cells[-1]}",
    ]


def verdict(result: ExerciseResult) -> tuple[float, bool, list[bool]]:
    return result.score, result.error is None, [c.passed for c in result.checks]


def solution_cells(course: Course, exercise_id: str, old: str = "", new: str = "") -> list[str]:
    exercise = course.exercise(exercise_id)
    assert exercise is not None
    # the code as a learner's notebook holds it: no authoring markers or mutant notes
    cells = split_module(strip_markers(course.solution_path(exercise).read_text())).cells
    if old:
        assert "".join(cells).count(old) == 1, old
        cells = [cell.replace(old, new) for cell in cells]
    return cells


def grade_both(grader: Grader, course: Course, exercise_id: str, tmp_path: Path,
               py_cells: list[str], nb_cells: list[str]) -> tuple[ExerciseResult, ExerciseResult]:
    exercise = course.exercise(exercise_id)
    assert exercise is not None
    py = tmp_path / "work.py"
    py.write_text("\n\n".join(py_cells) + "\n")
    nb = write_notebook(tmp_path / "work.ipynb", nb_cells)
    return grader.grade(exercise, py), grader.grade(exercise, nb)


@pytest.mark.parametrize("exercise_id", ["exercise-1", "exercise-2", "exercise-3"])
@pytest.mark.parametrize("answer", ["correct", "wrong", "broken"])
@pytest.mark.parametrize("magics", [False, True], ids=["plain", "magics"])
def test_notebook_scores_like_python(grader: Grader, course: Course, tmp_path: Path,
                                     exercise_id: str, answer: str, magics: bool) -> None:
    change = {"correct": ("", ""), "wrong": WRONG[exercise_id],
              "broken": BROKEN[exercise_id]}[answer]
    cells = solution_cells(course, exercise_id, *change)
    as_py, as_nb = grade_both(grader, course, exercise_id, tmp_path, cells,
                              with_magics(cells) if magics else cells)
    assert verdict(as_nb) == verdict(as_py)
    expected = {"correct": as_py.max_score, "wrong": None, "broken": 0.0}[answer]
    if expected is None:
        assert 0 < as_py.score < as_py.max_score, as_py
    else:
        assert as_py.score == expected, as_py
    assert (as_py.error is None) == (answer != "broken")


def test_blanks_are_named_by_cell(grader: Grader, course: Course, tmp_path: Path) -> None:
    exercise = course.exercise("exercise-1")
    assert exercise is not None
    nb = tmp_path / "exercise_1_weighted_sampling.ipynb"
    nb.write_bytes((course.root / "exercises" / nb.name).read_bytes())
    result = grader.grade(exercise, nb)
    assert result.score == 0
    assert result.error == ("the blanks in code cell 3 (line 5) and code cell 4 (line 12) are "
                            "still empty: replace each ___ with your answer")


def test_error_lines_point_at_cells(grader: Grader, course: Course, tmp_path: Path) -> None:
    cells = solution_cells(course, "exercise-2", *BROKEN["exercise-2"])
    _, as_nb = grade_both(grader, course, "exercise-2", tmp_path, cells,
                          ["%load_ext autoreload", *cells])
    # chain = {} + 1 is line 2 of the third code cell (the magic cell comes first).
    assert as_nb.error is not None
    assert as_nb.error.startswith("your notebook raised TypeError: unsupported operand type(s) "
                                  "for +: 'dict' and 'int' (code cell 3, line 2: chain = {} + 1)")
    assert "skipped code cell 1, line 1: %load_ext autoreload" in as_nb.error


def test_syntax_error_points_at_cell(grader: Grader, course: Course, tmp_path: Path) -> None:
    cells = solution_cells(course, "exercise-3", *BROKEN["exercise-3"])
    _, as_nb = grade_both(grader, course, "exercise-3", tmp_path, cells, cells)
    assert as_nb.error is not None and as_nb.score == 0
    assert ("your notebook has a syntax error: '(' was never closed "
            "(code cell 3, line 2: words = corpus.split()") in as_nb.error


@pytest.mark.parametrize(("content", "message"), [
    (b"print('a .py file saved as .ipynb')\n",
     "this is not a Jupyter notebook (it is not JSON: Expecting value on line 1)"),
    (b'{"cells": [', "this is not a Jupyter notebook (it is not JSON: Expecting value on line 1)"),
    (b'[1, 2, 3]', "this is not a Jupyter notebook (it has no list of cells)"),
    (b'{"cells": [{"cell_type": "code", "source": 5, "metadata": {}, "outputs": []}], '
     b'"nbformat": 4, "nbformat_minor": 4, "metadata": {}}',
     "this is not a Jupyter notebook (a code cell's source is not text)"),
    (b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
     "the notebook has no code in it"),
    (b'\xff\xfe{}', "the file is not UTF-8 text"),
    # read by the grader's own model, not nbformat's schema: each says what is wrong
    (b'{"cells": ["print(1)"], "nbformat": 4}',
     "this is not a Jupyter notebook (cell 1 is not a JSON object)"),
    (b'{"cells": [{"source": "x = 1"}], "nbformat": 4}',
     "this is not a Jupyter notebook (cell 1 has no cell_type)"),
    (b'{"cells": [], "nbformat": "4"}',
     "this is not a Jupyter notebook (its nbformat is not a whole number)"),
    (b'{"cells": [], "nbformat": 5, "nbformat_minor": 0}',
     "this is not a Jupyter notebook (it is in nbformat version 5, which this grader does "
     "not read)"),
])
def test_corrupt_notebook_gets_a_clear_error(grader: Grader, course: Course, tmp_path: Path,
                                             content: bytes, message: str) -> None:
    exercise = course.exercise("exercise-1")
    assert exercise is not None
    path = tmp_path / "work.ipynb"
    path.write_bytes(content)
    result = grader.grade(exercise, path)
    assert result.score == 0 and result.error is not None
    assert result.error.startswith(message), result.error
    assert "Traceback" not in result.error


def test_magic_lines_keep_line_numbers() -> None:
    cells = ["%matplotlib inline\nx = 1", "y = !ls\nx?\ndef f():\n    %time g()\n    return 2",
             "%%bash\nls\npwd", "%%capture\nz = 3"]
    source = join_cells(cells)
    lines = source.text.splitlines()
    assert lines[0] == "pass  # grade: skipped IPython line: %matplotlib inline"
    assert lines[3] == "y = None  # grade: skipped IPython line: y = !ls"
    assert lines[4] == "pass  # grade: skipped IPython line: x?"
    assert lines[6] == "    pass  # grade: skipped IPython line: %time g()"
    assert lines[9:12] == ["# grade: skipped a %%bash cell, which is not Python", "# ls", "# pwd"]
    assert lines[13:15] == ["# grade: skipped IPython line: %%capture", "z = 3"]
    assert [source.locate(n) for n in (2, 8, 12, 15)] == [(1, 2), (2, 5), (3, 3), (4, 2)]
    namespace: dict[str, object] = {}
    exec(compile(source.text, "nb", "exec"), namespace)
    assert (namespace["x"], namespace["y"], namespace["z"]) == (1, None, 3)


def test_ipython_lookalikes_inside_strings_and_brackets_are_code() -> None:
    cell = 'text = """\n%d items\n!important\nwhy?\n"""\nvalue = (7\n % 4)'
    source = join_cells([cell])
    assert source.skipped == ()
    assert source.text.splitlines()[:7] == cell.splitlines()
    namespace: dict[str, object] = {}
    exec(compile(source.text, "nb", "exec"), namespace)
    assert namespace["value"] == 3


def test_notebook_source_reads_a_real_notebook(course: Course) -> None:
    path = course.root / "exercises" / "exercise_2_generator.ipynb"
    source = notebook_source(path.read_text())
    assert "def generate(chain, start, length):" in source.text
    assert source.locate(source.text.splitlines().index("def generate(chain, start, length):")
                         + 1) \
        == (4, 1)  # after the setup cell, the import cell and the chain cell
    with pytest.raises(SubmissionError, match="not a Jupyter notebook"):
        notebook_source(json.dumps({"cells": "no"}))


def test_cli_grades_a_notebook_like_the_py(run_grade, course: Course, tmp_path: Path) -> None:
    cells = solution_cells(course, "exercise-1", *WRONG["exercise-1"])
    py = tmp_path / "work.py"
    py.write_text("\n\n".join(cells) + "\n")
    nb = write_notebook(tmp_path / "work.ipynb", with_magics(cells))
    runs = [run_grade("exercise-1", str(path), "--json") for path in (py, nb)]
    assert [r.returncode for r in runs] == [1, 1]
    as_py, as_nb = (ExerciseResult.model_validate_json(r.stdout) for r in runs)
    assert verdict(as_nb) == verdict(as_py)
    assert as_nb.score == 6.0


def test_separator_characters_inside_a_line_stay_in_it(grader: Grader, course: Course,
                                                      tmp_path: Path) -> None:
    """Jupyter runs a cell with \\x0c or \\u2028 inside a string; so must grade."""
    cells = solution_cells(course, "exercise-1")
    cells = [cells[0] + '\nnote = "a\x0cb\u2028c"', *cells[1:]]
    as_py, as_nb = grade_both(grader, course, "exercise-1", tmp_path, cells, cells)
    assert as_nb.error is None and as_nb.score == as_py.score == 10
