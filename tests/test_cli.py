"""The installed `grade` command, driven as a learner and a script would drive it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader.results import ExerciseResult
from tests.conftest import ROOT

SOLUTION_1 = ROOT / "solutions" / "exercise_1_weighted_sampling.py"


def test_json_report_validates_against_the_model(run_grade) -> None:
    done = run_grade("exercise-1", str(SOLUTION_1), "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1  # exactly one JSON object
    result = ExerciseResult.model_validate_json(done.stdout)
    assert (result.exercise, result.score, result.max_score, result.error) == (
        "exercise-1", 10.0, 10.0, None)
    raw = json.loads(done.stdout)
    for check in raw["checks"]:
        assert {"name", "passed", "score", "max_score", "message"} <= set(check)


def test_default_file_is_found_from_any_folder_of_the_course(run_grade) -> None:
    done = run_grade("exercise-1", "--json", cwd=ROOT / "exercises")
    assert done.returncode == 1
    result = ExerciseResult.model_validate_json(done.stdout)
    assert result.score == 0 and "still empty" in (result.error or "")


def test_human_report_shows_marks_points_and_hint(run_grade, tmp_path: Path) -> None:
    wrong = tmp_path / "mine.py"
    wrong.write_text(SOLUTION_1.read_text().replace("if r < cumulative:", "if r > cumulative:"))
    done = run_grade("exercise-1", str(wrong))
    assert done.returncode == 1
    out = done.stdout
    assert "✗ Draws from weather follow its weights" in out
    assert "✓ The weights add up to 1" in out
    assert "hint:" in out and "expected" in out
    assert "Score: 6/10" in out
    assert "Traceback" not in out + done.stderr


def test_exit_status_two_for_usage_and_course_errors(run_grade, tmp_path: Path) -> None:
    assert run_grade("exercise-9").returncode == 2
    assert run_grade("exercise-1", "--no-such-flag").returncode == 2
    (tmp_path / "course.yaml").write_text("title: x\nexercises: []\n")
    broken = run_grade("exercise-1", cwd=tmp_path)
    assert broken.returncode == 2
    assert "exercises: List should have at least 1 item" in broken.stderr
    nowhere = run_grade("--course", str(tmp_path / "missing.yaml"), "list")
    assert nowhere.returncode == 2 and "missing.yaml" in nowhere.stderr


def test_missing_file_is_graded_zero_with_error(run_grade, tmp_path: Path) -> None:
    done = run_grade("exercise-2", str(tmp_path / "nope.py"), "--json")
    assert done.returncode == 1
    result = ExerciseResult.model_validate_json(done.stdout)
    assert result.score == 0 and result.error and result.error.startswith("no submission")


def test_help_version_and_list(run_grade) -> None:
    helped = run_grade("--help")
    assert helped.returncode == 0 and "exercise-1" in helped.stdout
    assert run_grade("exercise-2", "--help").returncode == 0
    assert run_grade("--version").stdout.strip() == "grade, version 0.1.0"
    listed = json.loads(run_grade("list", "--json").stdout)
    assert [(e["id"], e["points"]) for e in listed["exercises"]] == [
        ("exercise-1", 10), ("exercise-2", 10), ("exercise-3", 10)]


def test_course_option_points_at_another_course(run_grade, tmp_path: Path) -> None:
    for part in ("course.yaml", "exercises", "solutions", "checks"):
        source = ROOT / part
        copy = tmp_path / part
        shutil.copytree(source, copy) if source.is_dir() else shutil.copy(source, copy)
    done = run_grade("--course", str(tmp_path), "exercise-3",
                     str(tmp_path / "solutions" / "exercise_3_tiny_language_model.py"),
                     cwd=Path("/"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_ctrl_c_ends_quietly_and_leaves_no_box(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    from grader.sandbox.zygote import UID_BASE
    from tests.attacks import _processes
    from tests.conftest import grade_command

    def boxes() -> set[int]:
        """Live boxes of this test's grade (other graders may run on a shared machine)."""
        table = _processes()

        def ours(pid: int) -> bool:
            while pid in table and pid > 1:
                if pid == process.pid:
                    return True
                pid = table[pid][0]
            return False

        return {pid for pid, (_, uid) in table.items() if uid >= UID_BASE and ours(pid)}

    def alive(pids: set[int]) -> set[int]:
        return pids & set(_processes())

    def wait_until(condition, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        return condition()

    # A long time limit: a loaded machine may take seconds to start grade and its box.
    (tmp_path / "course.yaml").write_text(
        (ROOT / "course.yaml").read_text().replace("time_limit: 10 ", "time_limit: 60 "))
    for part in ("exercises", "solutions", "checks"):
        shutil.copytree(ROOT / part, tmp_path / part)
    looping = tmp_path / "loop.py"
    looping.write_text("weather = {'sunny': 1.0}\nwhile True:\n    pass\n")
    # Ctrl-C reaches grade even when this test runs in a background job (which ignores SIGINT)
    process = subprocess.Popen([*grade_command(), "exercise-1", str(looping)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert wait_until(lambda: bool(boxes()), 30)  # the box is running the loop
    running = boxes()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in out + err
    assert wait_until(lambda: not alive(running), 5)  # the zygote's namespace went with it


def test_batch_says_once_when_isolation_is_reduced(run_grade, tmp_path: Path) -> None:
    for student in ("ann", "bob"):
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(SOLUTION_1, tmp_path / "class" / student)
    done = run_grade("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                     env={"GRADE_SANDBOX": "plain"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("note: reduced isolation on this machine") == 1
    full = run_grade("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out2"))
    assert "reduced isolation" not in full.stderr
