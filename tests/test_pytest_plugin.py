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
