"""LMS downloads into `grade batch`: every layout's ids and times, loose file names,
hostile zips, the roster and the Moodle and Canvas CSVs, graded by the real CLI."""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from grader.batch.discover import discover
from grader.batch.layouts import Layout
from grader.batch.safezip import UnsafeZip, ZipLimits, extract
from grader.course import load_course
from grader.course.match import match_file
from grader.results import NO_SUBMISSION, ErrorKind
from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from downloads import BUILDERS, EXPECTED, NAMES, SOLUTION, write, zipped
from synthetic import course_copy

DEADLINE = "2026-12-01T23:59:00+00:00"
ZIPPED = {"canvas": "", "moodle": "", "gradescope": "assignment_123_export"}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped course with a deadline: 10% of the points per started day late."""
    path = course_copy(tmp_path_factory.mktemp("course"), time_limit=5)
    text = path.read_text().replace("limits:\n", f"deadline: {DEADLINE}\nlate_policy:\n"
                                    "  penalty_percent: 10\n  per: day\nlimits:\n", 1)
    path.write_text(text)
    return path


def grade_batch(course: Path, *args: str | Path) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run([*grade_command(), "--course", str(course), "batch", *map(str, args)],
                          capture_output=True, text=True, timeout=240)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("name", [
    "exercise_1_weighted_sampling.py", "exercise_1 (1).py", "Exercise1.py", "exercise-1.ipynb",
    "EXERCISE_1_weighted_sampling-2.py", "exercise_1_weighted_sampling (3).ipynb"])
def test_loose_names_of_exercise_1_are_matched(name: str) -> None:
    exercises = load_course(ROOT / "course.yaml").exercises
    match = match_file(name, exercises)
    assert match.exercise is not None and match.exercise.id == "exercise-1", match
    exact = name in ("exercise_1_weighted_sampling.py", "exercise-1.ipynb")
    assert match.exact is exact and (match.note is None) is exact


@pytest.mark.parametrize(("name", "why"), [
    ("exercise_10.py", "matches no exercise"), ("notes.txt", "not a .py or .ipynb file"),
    ("exercise.py", "matches no exercise"), ("Übung 1.py", "matches no exercise")])
def test_names_that_fit_no_exercise_say_why(name: str, why: str) -> None:
    match = match_file(name, load_course(ROOT / "course.yaml").exercises)
    assert match.exercise is None and match.note and match.note.startswith(why)


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_each_layout_is_detected_with_every_id_name_and_time(layout: str, tmp_path: Path
                                                            ) -> None:
    course = load_course(ROOT / "course.yaml")
    root = BUILDERS[layout](tmp_path / layout)
    students, skipped, found = discover(root, course.exercises)
    assert found is Layout(layout)
    assert skipped == []
    assert {s.id: (s.times.get("exercise-1")) for s in students} == {
        sid: when for sid, (_, when) in EXPECTED[layout].items()}
    for student in students:
        assert "exercise-1" in student.files, (student.id, student.problems)
        assert student.name == NAMES.get(layout, {}).get(student.id, "")
    assert {s.id for s in students if s.late} == ({"1002"} if layout == "canvas" else set())
    unmatched = {s.id: s.unmatched for s in students if s.unmatched}
    assert unmatched == {
        "canvas": {"1003": ("notes.txt: not a .py or .ipynb file",)},
        "moodle": {"2003": ("onlinetext.html: not a .py or .ipynb file",)},
        "folders": {"José Núñez": (
            "scratch.py: matches no exercise (expected names like "
            "exercise_1_weighted_sampling.py)",)},
    }.get(layout, {})


def test_two_equally_good_files_for_one_exercise_are_an_error_not_a_guess(tmp_path: Path
                                                                         ) -> None:
    write(tmp_path / "ann" / "exercise_1 (1).py", SOLUTION)
    write(tmp_path / "ann" / "Exercise1.py", SOLUTION)
    write(tmp_path / "ben" / "exercise_1_weighted_sampling.py", SOLUTION)
    write(tmp_path / "ben" / "exercise_1 (1).py", SOLUTION)
    students, _, _ = discover(tmp_path, load_course(ROOT / "course.yaml").exercises)
    ann, ben = students
    path, problem = ann.submission(load_course(ROOT / "course.yaml").exercises[0])
    assert path is None and problem is not None and problem.kind is ErrorKind.AMBIGUOUS
    assert str(problem) == "two files for exercise-1 (Exercise1.py and exercise_1 (1).py); keep one"
    assert ben.files["exercise-1"].name == "exercise_1_weighted_sampling.py"
    assert ben.unmatched == ("exercise_1 (1).py: not graded (exercise_1_weighted_sampling.py "
                             "was graded for exercise-1)",)


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_each_download_is_graded_with_its_ids_times_and_late_penalties(
        layout: str, course: Path, tmp_path: Path) -> None:
    root = BUILDERS[layout](tmp_path / "download")
    source = zipped(root, tmp_path / "download.zip", ZIPPED[layout]) \
        if layout in ZIPPED else root
    code, out, err = grade_batch(course, source, "--out", tmp_path / "out",
                                 "--exercise", "exercise-1")
    assert code == 0, err
    assert f"({layout} layout)" in out
    book = {s["student"]: s["exercises"][0] for s in
            json.loads((tmp_path / "out" / "grades.json").read_text())}
    assert set(book) == set(EXPECTED[layout])
    for student, (raw, when) in EXPECTED[layout].items():
        adjustment = book[student]["adjustment"]
        assert adjustment["raw"] == raw, (student, book[student])
        moment = adjustment["submitted_at"]
        assert (datetime.fromisoformat(moment) if moment else None) == when
        late = when is not None and when > datetime.fromisoformat(DEADLINE)
        assert adjustment["penalty"] == (1.0 if late else 0.0), adjustment
        assert book[student]["score"] == raw - adjustment["penalty"]
    if layout == "canvas":
        assert "1002, exercise-1: the download marks it late but records no time" in err
    if layout in ZIPPED:  # unpacked inside OUTDIR, nowhere else
        assert sorted(p.name for p in tmp_path.iterdir()) == ["download", "download.zip",
                                                              "out"]


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


HOSTILE = {
    "traversal": ([("ann/../../escaped.py", b"x = 1")], "climbs out of the folder with '..'"),
    "absolute": ([("/tmp/escaped.py", b"x = 1")], "it is an absolute path"),
    "symlink": ([("ann/exercise_1_weighted_sampling.py", b"x = 1"),
                 (_symlink("ben/exercise_1_weighted_sampling.py", "/etc/passwd"),
                  b"/etc/passwd")], "it is a symbolic link"),
    "bomb": ([("ann/exercise_1_weighted_sampling.py", b"\0" * (8 << 20))],
             "inflates more than 200 times its compressed size (a zip bomb)"),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_hostile_zip_is_refused_and_nothing_is_unpacked(attack: str, tmp_path: Path) -> None:
    members, why = HOSTILE[attack]
    archive = _zip(tmp_path / "class.zip", members)
    target = tmp_path / "box" / "out" / ".download"
    with pytest.raises(UnsafeZip, match=why.replace("(", r"\(").replace(")", r"\)")):
        extract(archive, target)
    assert not target.exists()
    assert [p.name for p in tmp_path.rglob("*") if not p.is_dir()] == ["class.zip"]


def test_zip_limits_count_members_and_declared_sizes(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "class.zip", [(f"s{i}/a.py", b"x = 1\n" * 100) for i in range(5)])
    with pytest.raises(UnsafeZip, match="it holds 5 files"):
        extract(archive, tmp_path / "a", ZipLimits(members=4))
    with pytest.raises(UnsafeZip, match="unpacks to more than the limit"):
        extract(archive, tmp_path / "b", ZipLimits(total_bytes=2000))
    extract(archive, tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [f"s{i}" for i in range(5)]


def test_grade_batch_refuses_a_traversing_zip_with_one_sentence(course: Path, tmp_path: Path
                                                                ) -> None:
    archive = _zip(tmp_path / "class.zip", [("ann/exercise_1_weighted_sampling.py", SOLUTION
                                             .encode()), ("../../../escaped.py", b"x = 1")])
    code, _, err = grade_batch(course, archive, "--out", tmp_path / "out")
    assert code == 2
    assert ("refused class.zip: member '../../../escaped.py': its path climbs out of the "
            "folder with '..'; nothing was unpacked") in err
    assert "Traceback" not in err
    assert not list(tmp_path.parent.glob("**/escaped.py"))
    assert not (tmp_path / "out" / ".download").exists()


class CanvasImportRow(BaseModel):
    """A student row of Canvas's gradebook import, as Canvas documents its columns."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    student: str = Field(alias="Student", min_length=1)
    id: str = Field(alias="ID")
    sis_user_id: str = Field(alias="SIS User ID")
    sis_login_id: str = Field(alias="SIS Login ID")
    section: str = Field(alias="Section")
    exercise_1: float = Field(alias="exercise-1", ge=0)


class MoodleImportRow(BaseModel):
    """A row of a Moodle grade import: matched on email or ID number, a grade and
    its feedback per grade item."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    full_name: str = Field(alias="Full name", min_length=1)
    email: str = Field(alias="Email address")
    id_number: str = Field(alias="ID number")
    exercise_1: float = Field(alias="exercise-1", ge=0)
    feedback: str = Field(alias="exercise-1 feedback", min_length=1)


ROSTER = """id,name,email,sis_id,section
2001,José Núñez,jose@example.edu,S-2001,Tuesday
2002,Ann Lee,ann@example.edu,S-2002,Tuesday
2009,Never Handed In,never@example.edu,S-2009,Friday
"""


def test_the_roster_names_everyone_and_fills_canvas_and_moodle_ids(course: Path,
                                                                   tmp_path: Path) -> None:
    root = BUILDERS["moodle"](tmp_path / "download")
    write(tmp_path / "roster.csv", ROSTER)
    code, _, err = grade_batch(course, root, "--out", tmp_path / "out", "--exercise",
                               "exercise-1", "--roster", tmp_path / "roster.csv",
                               "--canvas-id", "id")
    assert code == 0, err
    assert "not on the roster, graded all the same: 2003" in err
    lines = (tmp_path / "out" / "canvas.csv").read_text().splitlines()
    assert lines[:2] == ["Student,ID,SIS User ID,SIS Login ID,Section,exercise-1",
                         "Points Possible,,,,,10"]
    canvas = [CanvasImportRow.model_validate(r) for r in csv.DictReader(
        [lines[0], *lines[2:]])]
    assert [(r.student, r.id, r.sis_user_id, r.section, r.exercise_1) for r in canvas] == [
        ("José Núñez", "2001", "S-2001", "Tuesday", 10), ("Ann Lee", "2002", "S-2002",
                                                           "Tuesday", 10),
        ("Zoë O'Brien", "2003", "", "", 6), ("Never Handed In", "2009", "S-2009", "Friday", 0)]
    moodle = [MoodleImportRow.model_validate(r) for r in csv.DictReader(
        (tmp_path / "out" / "moodle.csv").read_text().splitlines())]
    assert [(r.email, r.id_number, r.exercise_1) for r in moodle] == [
        ("jose@example.edu", "S-2001", 10), ("ann@example.edu", "S-2002", 10),
        ("never@example.edu", "S-2009", 0)]  # 2003 has neither: Moodle cannot match it
    assert moodle[2].feedback == f"0/10; {NO_SUBMISSION}"
    unmatched = list(csv.DictReader((tmp_path / "out" / "unmatched-moodle.csv").open()))
    assert [(u["student"], u["Full name"]) for u in unmatched] == [("2003", "Zoë O'Brien")]
    feedback = (tmp_path / "out" / "feedback" / "2009.md").read_text()
    assert "**Could not be checked:** no submission" in feedback
    assert ("moodle.csv leaves out 1 students that Moodle cannot match, listed in "
            "unmatched-moodle.csv: 2003 (no Email address or ID number)") in err
    assert os.path.exists(tmp_path / "out" / "gradescope" / "2009" / "results.json")
