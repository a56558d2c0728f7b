"""A tampered .grade/ never hangs or forges `grade status` and `grade exercise-N`.

The progress folder is the learner's own (anyone who can write the course folder can
put a FIFO, a device or an escape sequence there): every read of it opens without
blocking, takes only a regular file of bounded size, and shows its strings inert.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_course
from tests.test_learner_loop import EX1, PROGRESS, SOLUTION_1, save, status

# A learner's progress is the point here: the suite turns it off elsewhere. Only the
# learner's own file records progress, so each run grades exercises/ in the copy.
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
HANG = 60  # seconds: far above a grading here; the old code never ended at all
ESCAPES = "\x1b[2J\x1b[H\x1b]0;pwned\x07\rScore: 10/10\u202e"


@pytest.fixture
def run_grade(run_grade):
    def run(*args: str, **kwargs):
        return run_grade(*args, env={"GRADE_PROGRESS": "on"}, timeout=HANG, **kwargs)

    return run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


def test_a_fifo_as_the_progress_file_is_ignored_with_a_note_and_never_blocks(
        run_grade, home: Path) -> None:
    (home / ".grade").mkdir()
    os.mkfifo(home / PROGRESS)
    try:
        report, notes = status(run_grade, home)
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade status still blocked on a FIFO after {HANG} s")
    assert "is not a regular file" in notes and "grading is not affected" in notes, notes
    assert report.next == "exercise-1"
    graded = run_grade("exercise-1", str(save(home, EX1, SOLUTION_1)), cwd=home)
    assert graded.returncode == 0 and "Score: 10/10" in graded.stdout, graded.stderr
    assert "is not a regular file" in graded.stderr and "Traceback" not in graded.stderr
    # set aside, and replaced by a real progress file that remembers the run
    assert (home / (PROGRESS + ".ignored")).is_fifo()
    report, notes = status(run_grade, home)
    assert notes == "" and report.exercises[0].best == 10


def test_a_fifo_as_the_progress_lock_costs_only_the_saving_of_progress(
        run_grade, home: Path) -> None:
    (home / ".grade").mkdir()
    os.mkfifo(home / ".grade" / "lock")
    graded = run_grade("exercise-1", str(save(home, EX1, SOLUTION_1)), cwd=home)
    assert graded.returncode == 0 and "Score: 10/10" in graded.stdout, graded.stderr
    assert "progress not saved" in graded.stderr and "Traceback" not in graded.stderr


def test_a_tampered_file_field_reaches_grade_status_inert_and_a_fifo_there_is_not_read(
        run_grade, home: Path) -> None:
    os.mkfifo(home / "pipe.py")
    (home / ".grade").mkdir()
    (home / PROGRESS).write_text(json.dumps({"version": 1, "exercises": {
        "exercise-1": {"best": 4, "last": 4, "file": ESCAPES},
        "exercise-2": {"best": 1, "last": 1, "file": "pipe.py"}}}))
    shown = run_grade("status", cwd=home)
    assert shown.returncode == 0, shown.stderr
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in shown.stdout + shown.stderr, f"{raw!r} reached the terminal raw"
    assert "\\x1b[2J" in shown.stdout and "\\u202e" in shown.stdout, shown.stdout
    report, _ = status(run_grade, home)
    rows = {row.id: row for row in report.exercises}
    assert rows["exercise-1"].file.startswith("\\x1b[2J"), rows["exercise-1"].file
    assert rows["exercise-2"].file == "pipe.py" and rows["exercise-2"].blanks is None
