"""An author grading test answers changes no learner's state: only the exercise's own
file records progress and hint depth."""

from __future__ import annotations

from pathlib import Path

from grader.authoring.markers import strip_markers
from tests.conftest import ROOT, copy_course

EX1 = "exercises/exercise_1_weighted_sampling.py"
SOLUTION_1 = strip_markers((ROOT / "solutions/exercise_1_weighted_sampling.py").read_text())
WRONG = SOLUTION_1.replace("if r < cumulative:", "if r > cumulative:")  # 6/10


def test_grading_another_file_records_no_progress_and_says_so(run_grade,
                                                              tmp_path: Path) -> None:
    home = copy_course(tmp_path / "course")
    answers = tmp_path / "answers"
    answers.mkdir()
    on = {"GRADE_PROGRESS": "on"}
    hints = []
    for n in range(3):  # three different wrong answers in a row would deepen the hints
        wrong = answers / f"wrong{n}.py"
        wrong.write_text(WRONG + f"\n# try {n}\n")
        done = run_grade("exercise-1", str(wrong), cwd=home, env=on)
        assert done.returncode == 1 and "Score: 6/10" in done.stdout
        assert f"wrong{n}.py is not {EX1}: graded, but no progress or hint depth is " \
            "recorded" in done.stderr
        hints.append(done.stdout)
    assert hints[0].replace("try 0", "") == hints[2].replace("try 2", "")  # the first hint
    solved = answers / "solution.py"
    solved.write_text(SOLUTION_1)
    done = run_grade("exercise-1", str(solved), cwd=home, env=on)
    assert done.returncode == 0
    assert not (home / ".grade" / "progress.json").exists()
    # The learner's own file still records.
    (home / EX1).write_text(SOLUTION_1)
    done = run_grade("exercise-1", cwd=home, env=on)
    assert done.returncode == 0 and "no progress" not in done.stderr
    assert '"best": 10.0' in (home / ".grade" / "progress.json").read_text()
