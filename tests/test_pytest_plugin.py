"""The checks are real pytest tests: plain `pytest --submission FILE` runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run_pytest(checks: str, submission: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", checks, "--submission", str(submission), "-q",
         "-p", "no:cacheprovider", "--rootdir", str(ROOT), "-o", "testpaths="],
        cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_solution_passes_every_check_under_pytest() -> None:
    done = run_pytest("checks/exercise_2.py", ROOT / "solutions" / "exercise_2_generator.py")
    assert done.returncode == 0, done.stdout
    assert "7 passed" in done.stdout


def test_wrong_answer_fails_the_same_checks_under_pytest(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    solution = (ROOT / "solutions" / "exercise_2_generator.py").read_text()
    wrong.write_text(solution.replace("random.choice(options)", "options[0]"))
    done = run_pytest("checks/exercise_2.py", wrong)
    assert done.returncode == 1
    assert "2 failed, 5 passed" in done.stdout
    assert "test_sampled" in done.stdout and "test_next_word_frequencies" in done.stdout


def test_skeleton_blanks_are_reported_under_pytest() -> None:
    done = run_pytest("checks/exercise_1.py",
                      ROOT / "exercises" / "exercise_1_weighted_sampling.py")
    assert done.returncode == 1
    assert "still empty" in done.stdout


def test_under_pytest_the_blank_message_is_grades_own() -> None:
    done = run_pytest("checks/exercise_1.py",
                      ROOT / "exercises" / "exercise_1_weighted_sampling.py")
    assert ("the blanks on lines 18 and 33 are still empty: replace each ___ with your "
            "answer") in done.stdout, done.stdout


def test_a_check_that_never_returns_is_stopped_by_pytest_timeout(tmp_path: Path) -> None:
    checks = tmp_path / "test_forever.py"
    checks.write_text(
        "from grader.checks import check\n\n"
        "@check('never ends', 1)\n"
        "def test_forever(submission):\n"
        "    while True:\n"
        "        pass\n\n"
        "@check('ends', 1)\n"
        "def test_ends(submission):\n"
        "    assert submission.has('weather')\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(checks), "--submission",
         str(ROOT / "solutions" / "exercise_1_weighted_sampling.py"), "-q",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "--submission-time-limit", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout
    assert "Timeout (>6.0s) from pytest-timeout" in done.stdout, done.stdout
    # By then the submission's 1 s is spent: the next check says so as grade would.
    assert ("time limit: your code did not finish within 1 s; look for a loop that never "
            "ends") in done.stdout, done.stdout
    assert "2 failed" in done.stdout and "Traceback" not in done.stdout, done.stdout
