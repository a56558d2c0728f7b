"""`grade batch` end to end: the real CLI, real workers and sandboxes, a 55-student class."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch.journal import read_entries
from grader.reports.canvas import IDENTITY, POINTS_POSSIBLE, CanvasRow
from grader.reports.gradebook import Gradebook
from grader.reports.gradescope import GradescopeResults
from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import EXERCISES, FILES, build_class, course_copy

STUDENTS = 55
HEADER = "student,exercise-1,exercise-2,exercise-3,total"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def batch(course: Path, *args: str | Path) -> list[str]:
    return [*grade_command(), "--course", str(course), "batch", *map(str, args)]


def run(course: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(batch(course, *args), capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A class with solutions, skeletons, mutants, syntax errors, notebooks, snoopers,
    missing files and one infinite loop, graded once by `grade batch --jobs 2`."""
    root = tmp_path_factory.mktemp("class")
    course = course_copy(root / "course", time_limit=2)
    expected = build_class(root / "submissions", STUDENTS)
    before = tree_digest(root / "submissions")
    done = run(course, root / "submissions", "--out", root / "out", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return {"root": root, "course": course, "subs": root / "submissions", "out": root / "out",
            "expected": expected, "before": before, "done": done}


def test_every_cell_of_grades_csv_is_the_expected_score(klass: dict) -> None:
    text = (klass["out"] / "grades.csv").read_text()
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(text.splitlines()))
    expected = klass["expected"]
    assert [r["student"] for r in rows] == sorted(expected)
    kinds = set()
    for row in rows:
        want = expected[row["student"]]
        for exercise in EXERCISES:
            kinds.add(want[exercise].kind)
            assert float(row[exercise]) == want[exercise].score, (row["student"], exercise)
        assert float(row["total"]) == sum(w.score for w in want.values())
    assert kinds == {"solution", "mutant", "skeleton", "missing", "syntax", "notebook",
                     "snoop", "loop"}


def test_grades_json_holds_the_exercise_objects_and_errors(klass: dict) -> None:
    book = Gradebook.model_validate_json((klass["out"] / "grades.json").read_text())
    assert len(book.root) == STUDENTS
    for entry in book.root:
        assert [e.exercise for e in entry.exercises] == list(EXERCISES)
        for result in entry.exercises:
            want = klass["expected"][entry.student][result.exercise]
            if want.error is None:
                assert result.error is None, (entry.student, result)
            elif want.error:
                assert result.error == want.error  # exactly "no submission"
            else:
                assert result.error, (entry.student, result.exercise, want.kind)
            assert result.score == sum(c.score for c in result.checks)
    loop = next(e for e in book.root if e.student == "s0007").exercises[0]
    assert loop.error is not None and loop.error.startswith("time limit: your code did not "
                                                            "finish within 2 s")
    raw = json.loads((klass["out"] / "grades.json").read_text())
    assert "seconds" not in raw[0]["exercises"][0]  # wall time would break identity


def test_gradescope_and_canvas_exports_follow_their_documented_shapes(klass: dict) -> None:
    out = klass["out"]
    totals = {r["student"]: float(r["total"])
              for r in csv.DictReader((out / "grades.csv").read_text().splitlines())}
    top = {"score", "execution_time", "output", "output_format", "visibility",
           "stdout_visibility", "tests"}
    for student, total in totals.items():
        data = json.loads((out / "gradescope" / student / "results.json").read_text())
        assert set(data) == top
        results = GradescopeResults.model_validate(data)  # extra keys forbidden
        assert results.score == total
        assert len(results.tests) == 20  # 7 + 7 + 6 checks
        for test in data["tests"]:
            assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
            assert test["status"] == ("passed" if test["score"] == test["max_score"]
                                      else "failed")
    rows = list(csv.reader((out / "canvas.csv").read_text().splitlines()))
    assert rows[0] == [*IDENTITY, *EXERCISES]
    assert rows[1] == [POINTS_POSSIBLE, "", "", "", "", "10", "10", "10"]
    for cells in rows[2:]:
        row = CanvasRow(student=cells[0], id=cells[1], sis_user_id=cells[2],
                        sis_login_id=cells[3], section=cells[4],
                        scores=dict(zip(EXERCISES, map(float, cells[5:]), strict=True)))
        assert row.sis_login_id == row.student
        assert sum(row.scores.values()) == totals[row.student]
    assert len(rows) == 2 + STUDENTS


def test_feedback_repeats_what_the_learner_sees(klass: dict) -> None:
    book = json.loads((klass["out"] / "grades.json").read_text())
    student = next(s for s in book if s["student"] == "s0003")  # exercise-2 is the mutant
    assert klass["expected"]["s0003"]["exercise-2"].kind == "mutant"
    text = (klass["out"] / "feedback" / "s0003.md").read_text()
    assert "## Finish the generator (exercise-2): 7/10" in text
    failed = [c for c in student["exercises"][1]["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["The next word is sampled, not fixed",
                                           "Next words come up as often as in the corpus"]
    for check in failed:
        assert f"- ✗ **{check['name']}**: 0/" in text
        assert check["hint"] and f"hint: {check['hint']}" in text.replace("\\", "")
    missing = next(s for s, w in klass["expected"].items() if w["exercise-1"].kind == "missing")
    assert "**Could not be checked:** no submission" in (
        klass["out"] / "feedback" / f"{missing}.md").read_text()
    assert len(list((klass["out"] / "feedback").iterdir())) == STUDENTS


def test_report_is_one_offline_file_with_charts_and_tables(klass: dict) -> None:
    html = (klass["out"] / "report.html").read_text()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
    for external in ('src="http', "href=", "<script", "<link"):
        assert external not in html
    assert "What to reteach" in html
    assert "The next word is sampled, not fixed" in html
    assert "<td>s0007</td><td>exercise-1</td>" in html  # the infinite loop is listed


def test_a_snooping_submission_changes_no_file(klass: dict) -> None:
    assert tree_digest(klass["subs"]) == klass["before"]
    for folder in (klass["root"], ROOT):
        assert not list(folder.rglob("owned.txt"))


def test_a_killed_batch_resumes_to_the_identical_gradebook(klass: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(batch(klass["course"], klass["subs"], "--out", out, "--jobs", "2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # Workers, zygotes and boxes die with it (PR_SET_PDEATHSIG): nothing keeps running.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the killed batch left processes running")
    assert not (out / "grades.csv").exists()  # killed before the end
    saved = len(read_entries(journal)[0])
    assert 40 <= saved < STUDENTS * 3

    resumed = run(klass["course"], klass["subs"], "--out", out, "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{STUDENTS * 3 - saved} graded now" in resumed.stdout
    assert f"{saved} unchanged" in resumed.stdout
    for name in ("grades.csv", "grades.json", "canvas.csv"):
        assert (out / name).read_bytes() == (klass["out"] / name).read_bytes(), name
    assert tree_digest(out / "feedback") == tree_digest(klass["out"] / "feedback")


@pytest.fixture
def small(tmp_path: Path) -> dict:
    course = ROOT / "course.yaml"
    subs = tmp_path / "subs"
    for student in ("ann", "ben", "=SUM(A1)", "a,b", ".hidden", "new\nline", "-x"):
        (subs / student).mkdir(parents=True)
        for exercise in EXERCISES:
            solution = ROOT / "solutions" / FILES[exercise]
            (subs / student / FILES[exercise]).write_text(solution.read_text())
    (subs / "notes.txt").write_text("not a student")
    return {"course": course, "subs": subs, "out": tmp_path / "out"}


def test_only_changed_submissions_are_graded_again(small: dict) -> None:
    first = run(small["course"], small["subs"], "--out", small["out"])
    assert "15 graded now" in first.stdout, first.stdout
    again = run(small["course"], small["subs"], "--out", small["out"])
    assert "0 graded now" in again.stdout and "15 unchanged" in again.stdout
    target = small["subs"] / "ben" / FILES["exercise-2"]
    target.write_text(target.read_text().replace("word = random.choice(options)",
                                                 "word = options[0]"))
    changed = run(small["course"], small["subs"], "--out", small["out"])
    assert "1 graded now" in changed.stdout and "14 unchanged" in changed.stdout
    rows = {r["student"]: r for r in csv.DictReader(
        (small["out"] / "grades.csv").read_text().splitlines())}
    assert rows["ben"]["exercise-2"] == "7" and rows["ben"]["total"] == "27"
    forced = run(small["course"], small["subs"], "--out", small["out"], "--force")
    assert "15 graded now" in forced.stdout
    lines = (small["out"] / "journal.jsonl").read_bytes().count(b"\n")
    assert lines == 15  # compacted: one line per result


def test_unsafe_ids_are_rejected_or_escaped_and_said_so(small: dict) -> None:
    done = run(small["course"], small["subs"], "--out", small["out"])
    assert done.returncode == 0, done.stderr
    assert "skipped '.hidden': it starts with a dot" in done.stderr
    assert "skipped 'new\\nline': it contains control or invisible characters" in done.stderr
    assert "skipped 'notes.txt': it is not a folder" in done.stderr
    assert "student id '=SUM(A1)' starts with '='" in done.stderr
    text = (small["out"] / "grades.csv").read_text()
    assert text.splitlines() == [HEADER, "'-x,10,10,10,30", "'=SUM(A1),10,10,10,30",
                                 '"a,b",10,10,10,30', "ann,10,10,10,30", "ben,10,10,10,30"]
    book = json.loads((small["out"] / "grades.json").read_text())
    assert [s["student"] for s in book] == ["-x", "=SUM(A1)", "a,b", "ann", "ben"]
    assert book[1]["notes"] and "formula" in book[1]["notes"][0]
    report = (small["out"] / "report.html").read_text()
    assert "<code>.hidden</code>" in report and "<code>new\\nline</code>" in report
    assert sorted(p.name for p in (small["out"] / "feedback").iterdir()) == [
        "-x.md", "=SUM(A1).md", "a,b.md", "ann.md", "ben.md"]
    assert sorted(p.name for p in small["out"].iterdir()) == [
        "canvas.csv", "feedback", "grades.csv", "grades.json", "gradescope", "journal.jsonl",
        "journal.lock", "moodle.csv", "report.html", "state.json", "unmatched-moodle.csv"]


def test_one_exercise_gets_one_column(small: dict) -> None:
    done = run(small["course"], small["subs"], "--out", small["out"], "--exercise", "exercise-2")
    assert done.returncode == 0, done.stderr
    assert (small["out"] / "grades.csv").read_text().splitlines()[:2] == [
        "student,exercise-2,total", "'-x,10,10"]


@pytest.mark.parametrize(("args", "message"), [
    (("--exercise", "exercise-9"), "no exercise 'exercise-9' in the course"),
    (("--out", "{subs}"), "--out must not be the submissions folder itself"),
])
def test_usage_errors_exit_2_with_a_reason(small: dict, args: tuple[str, ...],
                                           message: str) -> None:
    extra = [a.format(subs=small["subs"]) for a in args]
    out = [] if "--out" in extra else ["--out", str(small["out"])]
    done = run(small["course"], small["subs"], *out, *extra)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_result_the_grader_failed_on_is_graded_again(small: dict) -> None:
    """A journaled grader fault (its sandbox failed) is no verdict: the next run retries it."""
    first = run(small["course"], small["subs"], "--out", small["out"])
    assert "15 graded now" in first.stdout, first.stdout
    journal = small["out"] / "journal.jsonl"
    lines = journal.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["result"].update(score=0.0, error="the grader's sandbox failed (its zygote died)",
                           error_kind="grader_fault")  # resume decides on the kind
    journal.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    again = run(small["course"], small["subs"], "--out", small["out"])
    assert "1 graded now" in again.stdout and "14 unchanged" in again.stdout
    rows = list(csv.DictReader((small["out"] / "grades.csv").read_text().splitlines()))
    assert {r["total"] for r in rows} == {"30"}
