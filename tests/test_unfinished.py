"""A file with blanks left is reported before the models load, as the whole grader would."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_course, graded_in_full

ONE_BLANK = ("import random\n\nweather = {'sunny': 0.5, 'cloudy': 0.3, 'rainy': 0.2}\n\n"
             "def sample(distribution):\n    return ___\n")


@pytest.mark.parametrize(("exercise", "file"), [
    ("exercise-1", "exercises/exercise_1_weighted_sampling.py"),
    ("exercise-2", "exercises/exercise_2_generator.ipynb"),  # blanks named by cell
    ("exercise-1", "one_blank.py"),  # "the blank on line 6 is"
])
def test_a_file_with_blanks_gets_the_report_the_whole_grader_would_give(
        run_grade, tmp_path: Path, exercise: str, file: str) -> None:
    home = copy_course(tmp_path / "course")
    (home / "one_blank.py").write_text(ONE_BLANK)
    expected = graded_in_full(home / "course.yaml", exercise, home / file)
    for _ in ("cold", "warm"):  # without, then with, the course cache's plan
        done = run_grade(exercise, file, cwd=home)
        assert (done.returncode, done.stderr) == (1, "")
        assert done.stdout == expected


def test_json_and_k_runs_of_a_file_with_blanks_still_come_from_the_whole_grader(
        run_grade) -> None:
    skeleton = "exercises/exercise_1_weighted_sampling.py"
    as_json = run_grade("exercise-1", skeleton, "--json", cwd=ROOT)
    assert as_json.returncode == 1 and '"error_kind":"blanks"' in as_json.stdout
    only = run_grade("exercise-1", skeleton, "-k", "no such check", cwd=ROOT)
    assert only.returncode == 2 and "no check of exercise-1 has 'no such check'" in only.stderr


def test_a_file_with_blanks_whose_checks_do_not_import_says_so_as_the_grader_does(
        run_grade, tmp_path: Path) -> None:
    home = copy_course(tmp_path / "course")
    checks = home / "checks/exercise_1.py"
    checks.write_text(checks.read_text() + "\nraise RuntimeError('a broken checks file')\n")
    done = run_grade("exercise-1", cwd=home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot load the checks of exercise-1" in done.stderr
    assert "RuntimeError: a broken checks file" in done.stderr
