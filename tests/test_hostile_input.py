"""Learner input is never a grader fault, never unbounded, never obeyed by a terminal.

Paths that are not the submission (links, pipes, devices, folders), notebooks no
parser can take, and a hypothesis fuzz of the learner's whole input path: source
bytes, notebook JSON and the values learner code returns. Each example is graded
for real, in the real sandbox, with a fixed budget of examples (CI stays fast and
deterministic: `derandomize`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from attacks import ESC_MESSAGE, LIBRARY, SOLUTION
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.course import Course
from grader.learner_text import _UNSAFE as UNSAFE
from grader.learner_text import max_result_bytes
from grader.results import ExerciseResult
from grader.runner import Grader

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_learner_error_at_most(result: ExerciseResult) -> None:
    """Whatever the input: a verdict or a learner error, bounded and inert."""
    assert not result.grader_fault, result.error
    assert len(result.model_dump_json()) <= max_result_bytes(len(result.checks))
    texts = [result.error or "", result.output] + [
        t for c in result.checks for t in (c.message, c.hint or "", c.detail or "")]
    assert not any(UNSAFE.search(t) for t in texts)


# --- grade exercise-N FILE reads the submission, and nothing else -----------------------

SECRET = "root:$6$TOPSECRET-HASH:19000:0:99999:7:::"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file the learner must never see quoted (like /etc/shadow's first line)."""
    path = tmp_path / "shadow"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


def test_grade_refuses_a_symlink_and_never_quotes_its_target(run_grade, tmp_path: Path,
                                                               secret: Path) -> None:
    link = tmp_path / "exercise_1_weighted_sampling.py"
    link.symlink_to(secret)
    done = run_grade("exercise-1", str(link), "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["error"] == (
        f"no submission: {link} is a symbolic link; submit the file itself")
    assert "TOPSECRET" not in done.stdout + done.stderr


@pytest.mark.parametrize(("make", "kind"), [
    (lambda p: os.mkfifo(p), "a pipe (FIFO)"),
    (lambda p: p.mkdir(), "a folder"),
    (None, "a device"),
], ids=["fifo", "folder", "device"])
def test_grade_refuses_what_is_not_a_regular_file(make: Any, kind: str, tmp_path: Path,
                                                  grader: Grader, course: Course) -> None:
    path = tmp_path / "exercise_1_weighted_sampling.py"
    if make is None:
        path = Path("/dev/zero")  # would be read forever
    else:
        make(path)
    result = grader.grade(course.exercises[0], path)  # a FIFO must not hang here
    assert result.error == f"no submission: {path} is {kind}, not a file"
    assert result.score == 0


def test_a_symlinked_notebook_is_refused_too(tmp_path: Path, grader: Grader, course: Course,
                                             secret: Path) -> None:
    link = tmp_path / "exercise_1_weighted_sampling.ipynb"
    link.symlink_to(secret)
    result = grader.grade(course.exercises[0], link)
    assert result.error is not None and "symbolic link" in result.error
    assert "TOPSECRET" not in result.model_dump_json()


# --- notebooks no parser can take are the learner's error ------------------------------

def _notebook(cells: Any, metadata: Any = None) -> str:
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4,
                       "nbformat_minor": 5})


NOT_A_NOTEBOOK = ("this is not a Jupyter notebook ({}); open it in Jupyter and save it again, "
                  "or if it is Python code, name it .py")
BROKEN_NOTEBOOKS = {
    "100,000 nested brackets": ('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                NOT_A_NOTEBOOK.format("its JSON is nested too deeply")),
    "nested 100,000 deep in its metadata": (
        _notebook([], None)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        NOT_A_NOTEBOOK.format("its JSON is nested too deeply")),
    "a JSON list": ("[1, 2, 3]", NOT_A_NOTEBOOK.format("it has no list of cells")),
    "a cell whose source is a number": (
        _notebook([{"cell_type": "code", "source": 7, "metadata": {}, "outputs": [],
                    "execution_count": None}]), None),
    "cells that are strings": (_notebook(["print(1)"]), None),
}


@pytest.mark.parametrize("name", list(BROKEN_NOTEBOOKS))
def test_a_broken_notebook_is_a_learner_error(name: str, tmp_path: Path, grader: Grader,
                                              course: Course) -> None:
    text, error = BROKEN_NOTEBOOKS[name]
    path = tmp_path / "exercise_1_weighted_sampling.ipynb"
    path.write_text(text)
    result = grader.grade(course.exercises[0], path)
    assert result.score == 0 and result.error is not None
    assert not result.grader_fault, result.error
    if error is not None:
        assert result.error == error


# --- hypothesis: the whole learner path, fuzzed --------------------------------------

@FUZZ
@given(data=st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([SOLUTION, LIBRARY, f"raise ValueError('{ESC_MESSAGE}')\n"]).flatmap(
        lambda s: st.integers(0, len(s)).map(lambda i: (s[:i] + s[i + 1:]).encode())),
))
def test_fuzzed_source_bytes_are_never_a_grader_fault(data: bytes, tmp_path: Path,
                                                      grader: Grader, course: Course) -> None:
    path = tmp_path / "exercise_1_weighted_sampling.py"
    path.write_bytes(data)
    assert_learner_error_at_most(grader.grade(course.exercises[0], path))


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                      st.text(max_size=20))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)
CELL = st.fixed_dictionaries({
    "cell_type": st.sampled_from(["code", "markdown", "raw", "nonsense"]),
    "source": st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=3), JSON),
    "metadata": st.one_of(st.just({}), JSON),
}, optional={"outputs": JSON, "execution_count": JSON})


@FUZZ
@given(cells=st.lists(st.one_of(CELL, JSON), max_size=4), metadata=JSON,
       version=st.sampled_from([4, 3, 5, "4", None]), cut=st.integers(0, 40))
def test_fuzzed_notebooks_are_never_a_grader_fault(cells: list[Any], metadata: Any,
                                                   version: Any, cut: int, tmp_path: Path,
                                                   grader: Grader, course: Course) -> None:
    text = json.dumps({"cells": cells, "metadata": metadata, "nbformat": version,
                       "nbformat_minor": 5})
    if cut:
        text = text[:-cut]  # a torn file too
    path = tmp_path / "exercise_1_weighted_sampling.ipynb"
    path.write_text(text)
    assert_learner_error_at_most(grader.grade(course.exercises[0], path))


VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
              st.text(max_size=30), st.binary(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=10), st.integers()),
                                            inner, max_size=5), st.frozensets(st.integers())),
    max_leaves=25)


@FUZZ
@given(value=VALUE, where=st.sampled_from(["weather", "sample"]))
def test_fuzzed_returned_values_are_never_a_grader_fault(value: Any, where: str,
                                                         grader: Grader,
                                                         course: Course) -> None:
    source = LIBRARY + "from math import inf, nan\n" + (
        f"weather = {value!r}\n" if where == "weather"
        else f"def sample(dist):\n    return {value!r}\n")
    result = grader.grade_source(course.exercises[0], source, "exercise_1_weighted_sampling.py")
    assert_learner_error_at_most(result)


# --- nothing learner code writes reaches a terminal as a control sequence ----------------

TERMINAL_ATTACK = (LIBRARY.replace("r = random.random()", "raise ValueError('\\x1b]0;t\\x07')")
                   + f"print('{ESC_MESSAGE}\\x9b2J\\u202eok')\n"
                   + f"raise type('\\x1b[2J\\u2066', (Exception,), {{}})('{ESC_MESSAGE}')\n")


@pytest.mark.parametrize("flag", ["--output", "--json"])
def test_the_terminal_report_shows_control_sequences_as_text(flag: str, run_grade,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "exercise_1_weighted_sampling.py"
    path.write_text(TERMINAL_ATTACK)
    done = run_grade("exercise-1", str(path), flag)
    assert done.returncode == 1, done.stderr
    shown = done.stdout + done.stderr
    assert [c for c in shown if UNSAFE.match(c) and c not in "\n"] == []
    if flag == "--json":  # JSON doubles each backslash of the visible escapes
        shown = json.dumps(json.loads(done.stdout), ensure_ascii=False).replace("\\\\", "\\")
    assert "\\x1b[2J" in shown and "\\x9b2J\\u202eok" in shown and "\\u2066" in shown


def test_a_notebook_magic_line_in_an_error_is_bounded_and_inert(tmp_path: Path,
                                                                grader: Grader,
                                                                course: Course) -> None:
    """The note on skipped magics quotes the learner's lines: cut and escaped too."""
    magic = "%time " + "\x1b[2J\u202e" * 10_000
    cells = [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
              "execution_count": None, "id": f"c{index}"}
             for index, source in enumerate([magic, "raise ValueError('\x1b]0;t\x07')"])]
    path = tmp_path / "exercise_1_weighted_sampling.ipynb"
    path.write_text(_notebook(cells))
    result = grader.grade(course.exercises[0], path)
    assert result.error is not None and "skipped code cell 1, line 1: %time" in result.error
    assert "\\x1b[2J\\u202e" in result.error
    assert_learner_error_at_most(result)


def test_the_feedback_markdown_and_gradescope_hold_no_control_character(
        tmp_path: Path, grader: Grader, course: Course) -> None:
    from grader.reports.feedback import feedback_markdown
    from grader.reports.gradescope import gradescope_results
    from grader.results import ClassResult, ExerciseInfo, StudentResult

    result = grader.grade_source(course.exercises[0], TERMINAL_ATTACK, FILE_NAME)
    student = StudentResult(student="mallory", exercises=[result])
    klass = ClassResult(course="c", exercises=[ExerciseInfo(id="exercise-1", title="t",
                                                            max_score=10)], students=[student])
    for text in (feedback_markdown(student, klass),
                 gradescope_results(student).model_dump_json()):
        assert [c for c in text if UNSAFE.match(c) and c not in "\n"] == []
        assert "x1b[2J" in text


FILE_NAME = "exercise_1_weighted_sampling.py"
