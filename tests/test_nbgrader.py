"""nbgrader: our export through the real `nbgrader generate_assignment` and `autograde`,
and our scores into a real nbgrader gradebook."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from pydantic import TypeAdapter

from grader.authoring.markers import strip_markers
from grader.authoring.nbgrader_export import export_nbgrader, slug
from grader.checks import load_checks
from grader.course import Course, load_course
from grader.notebooks.build import split_module
from grader.reports.nbgrader_grades import write_nbgrader_grades
from grader.results import StudentResult
from grader.runner import Grader
from tests.conftest import ROOT, grade_command

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -e '.[nbgrader]')")

from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator

ASSIGNMENT = "exercises"
EXERCISES = ["exercise-1", "exercise-2", "exercise-3"]
WRONG = {  # one wrong answer per exercise, as a learner might write it
    "exercise-1": ("if r < cumulative:", "if r > cumulative:"),
    "exercise-2": ("word = random.choice(options)", "word = options[0]"),
    "exercise-3": ("word = random.choice(chain[word])", "word = chain[word][0]"),
}


def grades_of_three() -> int:
    """One nbgrader grade per check, for a class of three: every check of every exercise."""
    course = load_course(ROOT / "course.yaml")
    return 3 * sum(len(load_checks(course.checks_path(e))) for e in course.exercises)

def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real nbgrader command; it shells out to alembic, so the venv's bin goes first."""
    bin_dir = Path(sys.executable).parent
    # Kernel "python3": the venv's own spec (its "python" resolves to this interpreter).
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_PREFER_ENV_PATH": "1"}
    run = subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=cwd, env=env, text=True,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def answer(course: Course, exercise_id: str, released: Path, wrong: bool) -> nbformat.NotebookNode:
    """The released notebook with its solution cells filled in, rightly or wrongly."""
    exercise = course.exercise(exercise_id)
    assert exercise is not None
    # as the export reads it: the code, without authoring markers or mutant notes
    cells = split_module(strip_markers(course.solution_path(exercise).read_text())).cells
    if wrong:
        old, new = WRONG[exercise_id]
        cells = [cell.replace(old, new) for cell in cells]
    notebook = nbformat.read(released, as_version=4)
    code = [c for c in notebook.cells
            if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]
    assert len(code) == len(cells)
    for cell, filled in zip(code, cells, strict=True):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = filled
    return notebook


@pytest.fixture(scope="module")
def autograded(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An nbgrader course from our export: released, answered by three students, autograded."""
    root = tmp_path_factory.mktemp("nbgrader-course")
    export_nbgrader(course, root, ASSIGNMENT)
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root)
    release = root / "release" / ASSIGNMENT
    for student, wrong in [("good", False), ("bad", True)]:
        for exercise_id in EXERCISES:
            path = root / "submitted" / student / ASSIGNMENT / f"{exercise_id}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            released = release / f"{exercise_id}.ipynb"
            nbformat.write(answer(course, exercise_id, released, wrong), path)
    untouched = root / "submitted" / "untouched" / ASSIGNMENT
    untouched.mkdir(parents=True)
    shutil.copy(release / "exercise-1.ipynb", untouched)  # handed in as released
    nbgrader("autograde", ASSIGNMENT, cwd=root)
    yield root


def test_export_writes_valid_nbgrader_source(course: Course, tmp_path: Path,
                                             grader: Grader) -> None:
    written = export_nbgrader(course, tmp_path, "lesson23")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "nbgrader_config.py", "source/lesson23/exercise-1.ipynb",
        "source/lesson23/exercise-2.ipynb", "source/lesson23/exercise-3.ipynb"]
    for exercise, path in zip(course.exercises, written[1:], strict=True):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        MetadataValidator().validate_nb(notebook)
        meta = [c.metadata.get("nbgrader") for c in notebook.cells]
        tests = [(m["grade_id"], m["points"]) for m in meta if m and m["grade"]]
        checks = grader.checks(exercise)
        assert tests == [(slug(c.name), c.points) for c in checks]
        solutions = [c.source for c, m in zip(notebook.cells, meta, strict=True)
                     if m and m["solution"]]
        assert solutions and all(s.count("### BEGIN SOLUTION") == s.count("### END SOLUTION")
                                 >= 1 for s in solutions)
        hidden = [c.source for c, m in zip(notebook.cells, meta, strict=True) if m and m["grade"]]
        assert all("### BEGIN HIDDEN TESTS" in s and "### END HIDDEN TESTS" in s for s in hidden)
        assert "checks=r'''" in hidden[0] and all("checks=" not in s for s in hidden[1:])
    assert "if not options:\n            break" in nbformat.read(written[2], 4).cells[3].source


def test_released_notebook_shows_the_skeleton_not_the_solution(autograded: Path) -> None:
    released = nbformat.read(autograded / "release" / ASSIGNMENT / "exercise-2.ipynb", 4)
    text = "\n".join(c.source for c in released.cells)
    assert "random.choice" not in text and "break" not in text
    assert "### BEGIN HIDDEN TESTS" not in text and "run_check" not in text
    generate = next(c.source for c in released.cells if "def generate" in c.source)
    assert generate.splitlines()[6:12] == [
        "        # if not options:",
        "        #     ___  # a dead end: no word ever followed this one. What now?",
        "        # word = ___  # sample the next word from options",
        "        # out.append(___)",
        "        # YOUR CODE HERE",
        "        raise NotImplementedError()",
    ]


def test_nbgrader_autograde_agrees_with_grade(autograded: Path, course: Course,
                                              grader: Grader) -> None:
    scores = {}
    with Gradebook(f"sqlite:///{autograded / 'gradebook.db'}") as gradebook:
        for student in ["good", "bad", "untouched"]:
            for exercise_id in EXERCISES if student != "untouched" else ["exercise-1"]:
                submitted = gradebook.find_submission_notebook(exercise_id, ASSIGNMENT, student)
                theirs = {g.name: g.score for g in submitted.grades}
                exercise = course.exercise(exercise_id)
                assert exercise is not None
                path = autograded / "submitted" / student / ASSIGNMENT / f"{exercise_id}.ipynb"
                ours = grader.grade(exercise, path)
                assert theirs == {slug(c.name): c.score for c in ours.checks}, (student, ours)
                assert submitted.score == ours.score
                scores[student, exercise_id] = ours.score
    assert scores == {
        ("good", "exercise-1"): 10.0, ("good", "exercise-2"): 10.0, ("good", "exercise-3"): 10.0,
        ("bad", "exercise-1"): 6.0, ("bad", "exercise-2"): 7.0, ("bad", "exercise-3"): 8.0,
        ("untouched", "exercise-1"): 0.0,
    }


def test_failed_check_shows_our_message_in_the_autograded_notebook(autograded: Path) -> None:
    notebook = nbformat.read(
        autograded / "autograded" / "bad" / ASSIGNMENT / "exercise-2.ipynb", 4)
    cell = next(c for c in notebook.cells
                if c.source.startswith("# grade-check: The next word is sampled"))
    error = next(o for o in cell.outputs if o.output_type == "error")
    assert error.ename == "AssertionError"
    assert error.evalue.startswith("20 different seeds all gave 'i love ai and i love'")
    passed = next(c for c in notebook.cells
                  if c.source.startswith("# grade-check: A dead-end word ends"))
    assert [o.text for o in passed.outputs] == ["passed\n"]


@pytest.fixture(scope="module")
def batch_graded(autograded: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`grade batch` run on nbgrader's own submitted/ tree; returns its OUTDIR."""
    out = tmp_path_factory.mktemp("batch-out")
    done = subprocess.run([*grade_command(), "batch", str(autograded), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def results_of(out: Path) -> list[StudentResult]:
    return TypeAdapter(list[StudentResult]).validate_json((out / "grades.json").read_bytes())


def test_batch_reads_nbgrader_layout(batch_graded: Path) -> None:
    rows = list(csv.reader((batch_graded / "grades.csv").read_text().splitlines()))
    assert rows == [["student", *EXERCISES, "total"],
                    ["bad", "6", "7", "8", "21"],
                    ["good", "10", "10", "10", "30"],
                    ["untouched", "0", "0", "0", "0"]]
    untouched = next(r for r in results_of(batch_graded) if r.student == "untouched")
    assert [e.error for e in untouched.exercises][1:] == ["no submission", "no submission"]


def test_batch_writes_scores_into_nbgrader_gradebook(autograded: Path, tmp_path: Path,
                                                     run_grade) -> None:
    db = tmp_path / "gradebook.db"
    run = run_grade("batch", str(autograded), "--out", str(tmp_path / "out"),
                    "--nbgrader-db", str(db), "--nbgrader-assignment", "lesson23")
    assert run.returncode == 0, run.stderr
    grades = grades_of_three()
    assert run.stdout.splitlines()[-1] == f"wrote {grades} grades into {db} (assignment lesson23)"
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert [(s.id, gradebook.find_submission("lesson23", s.id).score)
                for s in gradebook.students] == [("bad", 21), ("good", 30), ("untouched", 0)]


def test_grades_go_into_a_fresh_gradebook(tmp_path: Path, batch_graded: Path) -> None:
    results = results_of(batch_graded)
    db = tmp_path / "gradebook.db"
    assert write_nbgrader_grades(db, "lesson23", results) == grades_of_three()
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert [s.id for s in gradebook.students] == ["bad", "good", "untouched"]
        for student in results:
            submission = gradebook.find_submission("lesson23", student.student)
            assert submission.score == student.total
            for exercise in student.exercises:
                notebook = gradebook.find_submission_notebook(
                    exercise.exercise, "lesson23", student.student)
                assert notebook.max_score == exercise.max_score == 10
                assert {g.name: g.auto_score for g in notebook.grades} == {
                    slug(c.name): c.score for c in exercise.checks}
                assert not any(g.needs_manual_grade for g in notebook.grades)


def test_grades_overwrite_autograde_but_keep_a_tas_score(tmp_path: Path, autograded: Path,
                                                         batch_graded: Path, run_grade) -> None:
    db = tmp_path / "gradebook.db"
    shutil.copy(autograded / "gradebook.db", db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        by_hand = gradebook.find_grade("the-next-word-is-sampled-not-fixed", "exercise-2",
                                       ASSIGNMENT, "bad")
        by_hand.manual_score = 1.0
        zeroed = gradebook.find_grade("the-weights-add-up-to-1", "exercise-1", ASSIGNMENT, "good")
        zeroed.auto_score = 0.0
        gradebook.db.commit()
    grades = batch_graded / "grades.json"
    run = run_grade("export", "nbgrader-grades", "--db", str(db), "--results", str(grades))
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f"wrote {grades_of_three()} grades of 3 students into {db} "
                          "(assignment exercises)\n")
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert gradebook.find_submission_notebook("exercise-1", ASSIGNMENT, "good").score == 10
        kept = gradebook.find_grade("the-next-word-is-sampled-not-fixed", "exercise-2",
                                    ASSIGNMENT, "bad")
        assert (kept.auto_score, kept.manual_score, kept.score) == (0.0, 1.0, 1.0)
        assert kept.needs_manual_grade


def test_grades_cli_rejects_a_file_that_is_not_grades_json(tmp_path: Path, run_grade) -> None:
    bad = tmp_path / "grades.json"
    bad.write_text('[{"student": "ann"}]')
    run = run_grade("export", "nbgrader-grades", "--db", str(tmp_path / "g.db"),
                    "--results", str(bad))
    assert run.returncode == 2
    assert "is not a grades.json of grade batch (0.exercises: Field required)" in run.stderr
    assert not (tmp_path / "g.db").exists()


def test_export_carries_the_helper_modules_checks_import(course: Course, tmp_path: Path) -> None:
    """checks/exercise_2.py imports checks/markov.py: the first check cell embeds both."""
    written = export_nbgrader(course, tmp_path, "lesson23")
    first = next(c.source for c in nbformat.read(written[2], 4).cells
                 if "run_check(" in c.source)
    assert "helpers={'markov': r'''" in first
    assert "def build_chain(" in first
