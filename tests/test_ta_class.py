"""A TA's first class through the real `grade batch`: a Canvas and a Moodle download
that record no times, the LMS's own time exports (--submitted-at), course.yaml's
`marked_late`, and only the exercises the download holds."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from downloads import canvas, moodle
from synthetic import course_copy

DEADLINE = "2026-12-01T23:59:00+00:00"


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped course: 10% per started day late; a late mark without a time is one day."""
    path = course_copy(tmp_path_factory.mktemp("course"), time_limit=5)
    text = path.read_text().replace("limits:\n", f"deadline: {DEADLINE}\nlate_policy:\n"
                                    "  penalty_percent: 10\n  per: day\n  marked_late: 1\n"
                                    "limits:\n", 1)
    path.write_text(text)
    return path


def grade_batch(course: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*grade_command(), "--course", str(course), "batch",
                           *map(str, args)], capture_output=True, text=True, timeout=300)


def scores(outdir: Path) -> dict[str, float]:
    with (outdir / "grades.csv").open(encoding="utf-8") as f:
        return {row["student"]: float(row["exercise-1"]) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def canvas_run(course: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Canvas's download of exercise 1; Canvas's submissions export gives two times:
    1001 two days and a second late, 1003 on time; 1002 is `_LATE_` with no time."""
    root = tmp_path_factory.mktemp("canvas")
    times = root / "submissions.csv"
    times.write_text("id,user_id,assignment_id,submitted_at,late\n"
                     "5001,1001,77,2026-12-03T23:59:01Z,true\n"
                     "5003,1003,77,2026-12-01T20:00:00Z,false\n", encoding="utf-8")
    outdir = root / "out"
    done = grade_batch(course, canvas(root / "download"), "--out", outdir,
                       "--submitted-at", times)
    assert done.returncode == 0, done.stderr
    return done, outdir


def test_a_canvas_download_with_canvas_times_gets_the_late_penalty_to_the_period(
        canvas_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, outdir = canvas_run
    observed = scores(outdir)
    # 1001: 2 days 1 s late = 3 started days = -3; 1002: marked late, one day = -1;
    # 1003: the mutant (6), on time.
    expected = {"1001": 7.0, "1002": 9.0, "1003": 6.0}
    assert observed == expected, fail(observed, expected, "the penalty counts started days "
                                      "from the deadline, times from --submitted-at")
    feedback = (outdir / "feedback" / "1002.md").read_text(encoding="utf-8")
    assert "counted as 1 day late" in feedback, feedback
    assert "no penalty applied" not in feedback, fail(feedback, "no 'no penalty applied'",
                                                      "a penalty was applied")
    assert "marks it late" not in done.stderr, fail(done.stderr, "no late-mark warning",
                                                    "course.yaml says what a late mark costs")


def test_a_download_of_exercise_1_exports_no_column_for_the_others(
        canvas_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, outdir = canvas_run
    header = (outdir / "canvas.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "exercise-2" not in header and "exercise-3" not in header and (
        "exercise-1" in header or "Weighted" in header), fail(
        header, "a column for exercise 1 only", "nobody handed in exercises 2 and 3")
    feedback = (outdir / "feedback" / "1001.md").read_text(encoding="utf-8")
    assert "exercise-2" not in feedback, fail(feedback, "exercise 1 only", "not assigned")
    assert "graded the exercises the download holds: exercise-1 (not exercise-2, " \
           "exercise-3: nobody handed them in" in done.stdout, done.stdout


def test_moodles_grading_worksheet_gives_the_times(course: Path, tmp_path: Path) -> None:
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum grade,"
        "Grade can be changed,Last modified (submission),Last modified (grade),"
        "Feedback comments\n"
        "Participant 2001,José Núñez,jose@example.edu,Submitted for grading,,10,Yes,"
        "\"Wednesday, 2 December 2026, 9:00 AM\",-,\n"
        "Participant 2002,Ann Lee,ann@example.edu,Submitted for grading,,10,Yes,"
        "\"Tuesday, 1 December 2026, 11:00 PM\",-,\n"
        "Participant 2003,Zoë O'Brien,zoe@example.edu,No submission,,10,Yes,-,-,\n",
        encoding="utf-8")
    outdir = tmp_path / "out"
    done = grade_batch(course, moodle(tmp_path / "download"), "--out", outdir,
                       "--submitted-at", worksheet)
    assert done.returncode == 0, done.stderr
    observed = scores(outdir)
    # 2001: 9 h late (worksheet times read in the deadline's zone) = one day = -1
    expected = {"2001": 9.0, "2002": 10.0, "2003": 6.0}
    assert observed == expected, fail(observed, expected, "Moodle's dates, deadline's zone")


def test_an_override_settles_a_late_mark_without_a_warning(course: Path, tmp_path: Path
                                                            ) -> None:
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,points,reason\n1002,exercise-1,8,late by a day, "
                         "agreed\n".replace("day, agreed", "day (agreed)"), encoding="utf-8")
    outdir = tmp_path / "out"
    course_text = course.read_text().replace("  marked_late: 1\n", "")
    unset = tmp_path / "course" / "course.yaml"
    unset.parent.mkdir()
    for part in ("checks", "exercises", "solutions"):
        (unset.parent / part).symlink_to(course.parent / part)
    unset.write_text(course_text)
    done = grade_batch(unset, canvas(tmp_path / "download"), "--out", outdir,
                       "--overrides", overrides)
    assert done.returncode == 0, done.stderr
    assert scores(outdir)["1002"] == 8.0
    assert "marks it late" not in done.stderr, fail(done.stderr, "no warning",
                                                    "the override settled the late mark")
    feedback = (outdir / "feedback" / "1002.md").read_text(encoding="utf-8")
    assert "settled by the override" in feedback and "no penalty applied" not in feedback, \
        feedback


def test_exports_follow_the_umask_so_other_tas_can_read_them(tmp_path: Path) -> None:
    script = ("import os, sys; from pathlib import Path; os.umask(0o022); "
              "from grader.atomic import write_all_atomic; "
              "write_all_atomic([(Path(sys.argv[1]) / 'grades.csv', 'a\\n')])")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    mode = (tmp_path / "grades.csv").stat().st_mode & 0o777
    assert mode == 0o644, fail(oct(mode), "0o644", "a new file gets 0666 less the umask")
