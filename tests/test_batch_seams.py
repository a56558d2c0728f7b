"""The seams of the class pipeline (issue 22, and issue 23's file names): the right
grade to the right student whatever the download, roster or zip holds. Each test is
a class of inputs with several variants; the renderers and readers are run on real
files and real results, the batch through real `run_batch` workers or `grade batch`."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from grader.batch import BatchError, BatchRequest, run_batch
from grader.batch.discover import MAX_NOTES, StudentFolder, discover
from grader.batch.layouts import Layout
from grader.batch.layouts.folders import read_nbgrader
from grader.batch.roster import RosterRow, join_roster, read_roster
from grader.batch.safezip import UnsafeZip, ZipLimits, extract
from grader.batch.tables import TableError
from grader.course import Course, load_course
from grader.reports.canvas import canvas_rows
from grader.reports.export import write_exports
from grader.reports.moodle import moodle_csv, unmatched_moodle_csv
from grader.results import ClassResult, ExerciseInfo, ExerciseResult, Person, StudentResult
from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "tests"))
from attacks import FILE, SOLUTION, WRONG


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


def _class_result(people: dict[str, Person], ids: list[str]) -> ClassResult:
    info = ExerciseInfo(id="exercise-1", title="one", max_score=10)
    return ClassResult(
        course="c", exercises=[info], people=people,
        students=[StudentResult(student=s, exercises=[ExerciseResult(
            exercise="exercise-1", score=7, max_score=10, error=None, checks=[])])
            for s in ids])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- 1. Moodle never writes a row it cannot match --------------------------------

MOODLE_CASES = {
    # a roster row without email, among rows with email and ID number
    "no email": ({"a": Person(email="a@x.edu", sis_id="S1"), "b": Person(sis_id="S2"),
                  "c": Person(email="c@x.edu", sis_id="S3")}, ["b"]),
    # a roster row without ID number
    "no id number": ({"a": Person(email="a@x.edu", sis_id="S1"),
                      "b": Person(email="b@x.edu")}, ["b"]),
    # a submitter not on the roster, first in the file (Moodle aborts the import)
    "stranger first": ({"b": Person(email="b@x.edu", sis_id="S2")}, ["a"]),
    # no roster at all: nobody can be matched
    "no roster": ({}, ["a", "b"]),
    # everyone has an email, nobody an ID number: the email column alone is carried
    "emails only": ({"a": Person(email="a@x.edu"), "b": Person(email="b@x.edu")}, []),
}


@pytest.mark.parametrize("case", sorted(MOODLE_CASES))
def test_moodle_csv_has_no_row_with_an_empty_match_cell_and_lists_the_rest_with_why(
        case: str) -> None:
    people, left_out = MOODLE_CASES[case]
    ids = sorted({*people, *left_out})
    result = _class_result(people, ids)
    rows = _rows(moodle_csv(result))
    carried = [c for c in ("Email address", "ID number") if any(r[c] for r in rows)]
    for row in rows:
        assert carried and all(row[c] for c in carried), fail(
            row, f"every one of {carried} filled", "Moodle's import keeps the last matched "
            "user, so an empty id cell puts this row's grades on the student above")
    unmatched = _rows(unmatched_moodle_csv(result))
    assert sorted(r["student"] for r in unmatched) == sorted(left_out), fail(
        unmatched, left_out, "every student left out of moodle.csv is listed, with why")
    assert all(r["why"] for r in unmatched)
    assert len(rows) + len(unmatched) == len(ids), "every student is in exactly one file"


# --- 2. Canvas: the roster's fields are the roster's ---------------------------------

@pytest.mark.parametrize(("column", "person", "expected"), [
    ("SIS Login ID", Person(sis_login="jdoe", sis_id="S1"), ("", "S1", "jdoe")),
    ("SIS User ID", Person(sis_login="jdoe", sis_id="S1"), ("", "S1", "jdoe")),
    ("SIS Login ID", Person(sis_id="S1"), ("", "S1", "2001")),  # empty: the id fills it
    ("SIS Login ID", Person(on_roster=False), ("", "", "2001")),
    ("ID", Person(sis_login="jdoe", sis_id="S1"), ("2001", "S1", "jdoe")),
])
def test_canvas_csv_never_replaces_a_roster_id_with_the_download_id(
        column: str, person: Person, expected: tuple[str, str, str]) -> None:
    result = _class_result({"2001": person}, ["2001"])
    row = canvas_rows(result, column)[0]  # type: ignore[arg-type]
    observed = (row.id, row.sis_user_id, row.sis_login_id)
    assert observed == expected, fail(observed, expected, "Canvas matches a row by any id "
                                      "column: a download id in the roster's column could "
                                      "name another user")


# --- 4. Ids from every source are checked alike; nothing is written outside OUTDIR ---

@pytest.mark.parametrize("bad", ["../../../../tmp/x", "sub/dir", ".hidden", "a\u202eb",
                                 "tab\there", "x" * 201])
def test_a_roster_id_that_could_not_name_a_student_is_refused_naming_file_and_line(
        bad: str, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "name"], ["ann", "Ann"], [bad, "Bad"]])
    with pytest.raises(TableError) as error:
        read_roster(roster)
    assert f"{roster}, line 3" in str(error.value), fail(str(error.value), "file and line",
                                                           "the TA must find the row")


def test_roster_ids_that_collide_like_download_ids_are_refused(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nJosé,A\nJose\u0301,B\n", encoding="utf-8")
    with pytest.raises(TableError, match="the same id as"):
        read_roster(roster)


@pytest.mark.parametrize("table", ["extensions", "overrides"])
@pytest.mark.parametrize("bad", ["../../tmp/x", "sub/dir", "a\x1b[2Jb"])
def test_extension_and_override_ids_get_the_same_checks(table: str, bad: str,
                                                        tmp_path: Path) -> None:
    path = tmp_path / f"{table}.csv"
    header = ("student,exercise,deadline,reason" if table == "extensions"
              else "student,exercise,check,points,reason,by")
    line = ("exercise-1,2026-12-09T00:00:00+00:00,ill" if table == "extensions"
            else "exercise-1,,10,regrade,ta")
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write(f"{header}\n")
        csv.writer(f).writerow([bad, *next(csv.reader([line]))])
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    done = subprocess.run([*grade_command(), "--course", str(ROOT / "course.yaml"), "batch",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                           f"--{table}", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "cannot be an id" in done.stderr, fail(
        (done.returncode, done.stderr[-300:]), "exit 2 naming the id", "an id from "
        f"{table}.csv is as untrusted as one from a download")
    assert "\x1b" not in done.stderr


def test_exports_refuse_a_path_outside_outdir_and_write_nothing(tmp_path: Path) -> None:
    outdir = tmp_path / "deep" / "out"
    result = _class_result({}, ["ann", "../../escaped"])
    with pytest.raises(ValueError, match="outside"):
        write_exports(outdir, result, draw_charts=False)
    assert not (tmp_path / "escaped.md").exists() and not (tmp_path / "deep").exists()


# --- 5. Each roster row gets at most one submitter --------------------------------

def _folder(sid: str, email: str = "") -> StudentFolder:
    return StudentFolder(sid, Path("/nowhere") / sid, email=email)


ROSTER = [RosterRow(id="ann", email="ann@x.edu", sis_id="S-1"),
          RosterRow(id="bob", email="bob@x.edu", sis_id="S-2")]


@pytest.mark.parametrize(("submitters", "by_sis", "refused"), [
    # two Gradescope submissions with one email
    ([_folder("g1", "ann@x.edu"), _folder("g2", "ann@x.edu")], True, {"g1", "g2"}),
    # one by id, one by email
    ([_folder("ann"), _folder("zz", "ann@x.edu")], False, {"ann", "zz"}),
    # one by SID (Gradescope), one by email
    ([_folder("S-2"), _folder("q", "bob@x.edu")], True, {"S-2", "q"}),
])
def test_a_second_submitter_for_one_roster_row_is_an_error_for_both(
        submitters: list[StudentFolder], by_sis: bool, refused: set[str]) -> None:
    students, _, _, skipped = join_roster(submitters, ROSTER, Path("/nowhere"),
                                          ["exercise-1"], by_sis_id=by_sis)
    assert {s.name for s in skipped} == refused, fail(
        [s.name for s in skipped], refused, "neither submission may be guessed")
    assert all(all(c in s.reason for c in refused) for s in skipped), "each names both"
    row = next(s for s in students if s.id in ("ann", "bob") and s.problems)
    assert row.problems["exercise-1"].kind == "ambiguous"
    assert all(s.problems and not s.files for s in students if s.id in refused), (
        "no refused submission is graded, not even under its own id")


def test_a_folder_named_like_another_students_sis_id_is_not_that_student() -> None:
    students, _, strangers, skipped = join_roster([_folder("ann"), _folder("S-2")], ROSTER,
                                                  Path("/nowhere"), ["exercise-1"])
    assert strangers == ["S-2"] and not skipped, fail(
        (strangers, skipped), (["S-2"], []), "a download id is not a SIS id: matching "
        "one against the other puts one student's grade on another")
    bob = next(s for s in students if s.id == "bob")
    assert bob.path == Path("/nowhere/bob"), "bob handed nothing in"


# --- 7. Zip bombs: the whole archive's ratio, while inflating -----------------------

@pytest.mark.parametrize(("members", "size"), [(400, 750_000), (3000, 100_000),
                                               (80, 900_000)])
def test_a_zip_of_many_small_highly_compressed_members_is_refused_while_inflating(
        members: int, size: int, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        block = b"\0" * size
        for i in range(members):
            archive.writestr(f"s{i % 7}/f{i}.txt", block)
    inflated = members * size
    assert inflated > ZipLimits().ratio * bomb.stat().st_size  # a bomb by docs/ta.md's ratio
    with pytest.raises(UnsafeZip, match="the archive inflates more than 200 times"):
        extract(bomb, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_ordinary_class_zip_still_unpacks(tmp_path: Path) -> None:
    plain = tmp_path / "class.zip"
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(30):
            archive.writestr(f"s{i}/{FILE}", SOLUTION)
    assert extract(plain, tmp_path / "out") == []
    assert len(list((tmp_path / "out").rglob("*.py"))) == 30


# --- 8. Readers: bounded, csv's own rows, named files, capped notes ---------------

def test_a_huge_nbgrader_timestamp_is_read_in_bounded_memory(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ann" / "ps1"
    folder.mkdir(parents=True)
    (folder / "exercise-1.ipynb").write_text("{}")
    with (folder / "timestamp.txt").open("wb") as f:
        f.write(b"2026-11-30 12:00:00 UTC\n")
        f.truncate(200 << 20)  # sparse: 200 MB that cost no disk
    tracemalloc.start()
    found, _ = read_nbgrader(tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20, fail(peak, "< 8 MB", "timestamp.txt is one short line")
    assert next(iter(found[0].times.values())).year == 2026


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_a_name_with_a_unicode_line_separator_is_one_roster_row(separator: str,
                                                                tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name\nann,Ann{separator}Lee\nbob,Bob\n", encoding="utf-8")
    rows = read_roster(roster)
    assert [r.id for r in rows] == ["ann", "bob"], fail(
        [r.id for r in rows], ["ann", "bob"], "only \\r and \\n end a CSV row")
    assert rows[0].name == f"Ann{separator}Lee"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1"])
def test_a_roster_that_is_not_utf8_is_one_sentence_naming_the_file(encoding: str,
                                                                  tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes("id,name\nann,Zoë Ñúñez\n".encode(encoding))
    with pytest.raises(TableError) as error:
        read_roster(roster)
    assert str(roster) in str(error.value) and "UTF-8" in str(error.value)


@pytest.mark.parametrize("strays", [MAX_NOTES + 1, 500])
def test_notes_per_student_are_capped_with_a_count(strays: int, course: Course,
                                                   tmp_path: Path) -> None:
    folder = tmp_path / "subs" / "ann"
    folder.mkdir(parents=True)
    (folder / FILE).write_text(SOLUTION)
    for i in range(strays):
        (folder / f"stray{i:04}.txt").write_text("x")
    students, _, _ = discover(tmp_path / "subs", course.exercises)
    notes = students[0].notes
    assert len(notes) <= MAX_NOTES and "more notes like these" in notes[-1], fail(
        len(notes), MAX_NOTES, "10,000 stray files must not make a 1 MB grades.json")


# --- 9. GitHub Classroom: logins with hyphens --------------------------------------

@pytest.mark.parametrize(("repos", "ids"), [
    (["hw-ann-lee"], ["ann-lee"]),
    (["hw-ann-lee", "hw-ann-smith"], ["ann-lee", "ann-smith"]),
    (["hw-ann-lee", "hw-bob"], ["ann-lee", "bob"]),
    (["lesson-2-x-ann-lee", "lesson-2-x-ann-li"], ["ann-lee", "ann-li"]),
])
def test_classroom_ids_are_the_logins_after_the_assignment_slug(repos: list[str],
                                                                ids: list[str],
                                                                course: Course,
                                                                tmp_path: Path) -> None:
    slug = "lesson-2-x" if repos[0].startswith("lesson") else "hw"
    root = tmp_path / f"{slug}-submissions"  # as `gh classroom clone student-repos` names it
    for repo in repos:
        (root / repo / ".git").mkdir(parents=True)
        (root / repo / FILE).write_text(SOLUTION)
    students, _, _ = discover(root, course.exercises, Layout.CLASSROOM)
    assert sorted(s.id for s in students) == ids, fail(
        [s.id for s in students], ids, "Classroom names a repository "
        "<assignment-slug>-<github-username>, and usernames may hold hyphens")


# --- 11. Download text is neutralised where it enters ------------------------------

HOSTILE_NAMES = ["\x1b[2J\x1b]0;pwned\x07x.txt", "ok.txt\nwarning: forged line",
                 "evil\u202etxt.py", "bell\x07\x9b31m.txt"]


def test_file_names_from_a_download_reach_notes_inert(course: Course, tmp_path: Path) -> None:
    folder = tmp_path / "subs" / "ann"
    folder.mkdir(parents=True)
    (folder / FILE).write_text(SOLUTION)
    for name in HOSTILE_NAMES:
        (folder / name).write_text("x")
    students, skipped, _ = discover(tmp_path / "subs", course.exercises)
    text = "".join([*students[0].notes, *students[0].unmatched,
                    *(s.name + s.reason for s in skipped)])
    for raw in ("\x1b", "\n", "\u202e", "\x07", "\x9b"):
        assert raw not in text, fail(raw, "escaped", "a file name is learner text")
    assert "\\x1b[2J" in text and "\\u202e" in text


def test_names_in_lms_metadata_are_neutralised(course: Course, tmp_path: Path) -> None:
    root = tmp_path / "gs"
    (root / "submission_1").mkdir(parents=True)
    (root / "submission_1" / FILE).write_text(SOLUTION)
    (root / "submission_metadata.yml").write_text(
        'submission_1:\n  :submitters:\n  - :name: "Ann\\e[31m\\u202eLee\\nwarning: x"\n'
        "    :sid: '7'\n    :email: a@x.edu\n", encoding="utf-8")
    students, _, _ = discover(root, course.exercises)
    name = students[0].name
    assert "\x1b" not in name and "\u202e" not in name and "\n" not in name, fail(
        name, "inert", "metadata from a download is learner text")


# --- 6. One student's bad name never stops the class ------------------------------

def _zip_class(path: Path, extra: list[tuple[str, str]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"carol/{FILE}", SOLUTION)
        archive.writestr(f"dave/{FILE}", WRONG)
        for name, text in extra:
            archive.writestr(name, text)
    return path


BAD_MEMBERS = {
    "long name": [(f"bob/{'n' * 300}.py", SOLUTION), (f"bob/{FILE}", SOLUTION)],
    "deep": [("bob/" + "d/" * 2000 + "deep.py", "x = 1"), (f"bob/{FILE}", SOLUTION)],
    "file and folder": [("bob/a", "x"), ("bob/a/b.py", "y"), (f"bob/{FILE}", SOLUTION)],
    "folder then file": [("bob/a/b.py", "y"), ("bob/a", "x"), (f"bob/{FILE}", SOLUTION)],
}


@pytest.mark.parametrize("case", sorted(BAD_MEMBERS))
def test_a_bad_member_name_is_that_students_note_and_the_class_is_graded(
        case: str, course: Course, tmp_path: Path) -> None:
    download = _zip_class(tmp_path / "class.zip", BAD_MEMBERS[case])
    out = tmp_path / "out"
    run = run_batch(course, BatchRequest(download, out, exercises=course.exercises[:1], jobs=1,
                    export=lambda r: write_exports(out, r.results, draw_charts=False)))
    scores = {s.student: s.total for s in run.results.students}
    assert scores == {"bob": 10, "carol": 10, "dave": 6}, fail(
        scores, "everyone graded", f"a {case} member is one student's problem")
    bob = " ".join(run.results.notes.get("bob", []))
    assert "zip member" in bob, fail(bob, "a note about the member", "the TA must know")
    assert (out / "grades.json").is_file() and (out / "moodle.csv").is_file()


def test_a_file_name_that_is_not_utf8_is_a_note_and_the_class_is_graded(
        course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for student, text in (("ann", SOLUTION), ("bob", WRONG)):
        (subs / student).mkdir(parents=True)
        (subs / student / FILE).write_text(text)
    os.close(os.open(os.fsencode(subs / "ann") + b"/caf\xe9\xff.py", os.O_CREAT | os.O_WRONLY))
    os.mkdir(os.fsencode(subs) + b"/z\xff")  # a student folder not in UTF-8
    out = tmp_path / "out"
    run = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1,
                    export=lambda r: write_exports(out, r.results, draw_charts=False)))
    scores = {s.student: s.total for s in run.results.students}
    assert scores == {"ann": 10, "bob": 6}, fail(scores, {"ann": 10, "bob": 6},
                                                  "a bad name stops no one")
    text = (out / "grades.json").read_text(encoding="utf-8")
    assert "caf\\\\udce9" in text or "caf\\\\xe9" in text, "the name is shown, escaped"
    assert any("not valid UTF-8" in s.reason for s in run.results.skipped)


# --- 3. Two batches on one OUTDIR ---------------------------------------------------

def test_a_file_changed_while_graded_is_not_stored_under_the_planned_fingerprint(
        course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "aaa").mkdir(parents=True)  # nothing handed in: recorded before grading
    (subs / "bob").mkdir()
    (subs / "bob" / FILE).write_text(SOLUTION)
    out = tmp_path / "out"

    def swap(done: int, total: int) -> None:
        if done == 1:  # after planning, before bob is graded: his file changes
            (subs / "bob" / FILE).write_text(WRONG)

    run = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1,
                                         progress=swap))
    assert {s.student: s.total for s in run.results.students}["bob"] == 6
    (subs / "bob" / FILE).write_text(SOLUTION)  # the file as planned again
    again = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1))
    bob = {s.student: s.total for s in again.results.students}["bob"]
    assert bob == 10, fail(bob, 10, "the journal stored WRONG's result under SOLUTION's "
                           "fingerprint, and the rerun kept it")


def _batch(download: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*grade_command(), "--course", str(ROOT / "course.yaml"),
                             "batch", str(download), "--out", str(out), "--exercise",
                             "exercise-1", "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_batch_into_a_running_batchs_outdir_touches_nothing(tmp_path: Path) -> None:
    slow = "import time\ntime.sleep(1.5)\n" + SOLUTION
    a = tmp_path / "A.zip"
    with zipfile.ZipFile(a, "w") as archive:
        for i in range(4):
            archive.writestr(f"a{i}/{FILE}", slow)
    b = tmp_path / "B.zip"
    with zipfile.ZipFile(b, "w") as archive:
        for i in range(4):
            archive.writestr(f"a{i}/{FILE}", WRONG)
    out = tmp_path / "out"
    first = _batch(a, out)
    deadline = time.monotonic() + 60
    while not (out / "journal.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # A is grading
    second = _batch(b, out)
    _, err = second.communicate(timeout=120)
    _, first_err = first.communicate(timeout=240)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and "another `grade batch` is writing" in err, err
    import json
    grades = {e["student"]: e["total"] for e in json.loads((out / "grades.json").read_text())}
    assert grades == {f"a{i}": 10 for i in range(4)}, fail(
        grades, "A's grades", "B unpacked its files under the running A")
    rerun = _batch(b, out)
    rerun.communicate(timeout=240)
    grades = {e["student"]: e["total"] for e in json.loads((out / "grades.json").read_text())}
    assert grades == {f"a{i}": 6 for i in range(4)}, fail(grades, "B's grades",
                                                          "B graded once A is done")


def test_run_batch_refuses_while_another_holds_the_lock_before_unpacking(
        course: Course, tmp_path: Path) -> None:
    a = _zip_class(tmp_path / "A.zip", [])
    out = tmp_path / "out"
    seen: list[str] = []

    def export(_: object) -> None:
        marker = (out / ".download" / "carol" / FILE).read_text()
        try:
            run_batch(course, BatchRequest(tmp_path / "B.zip", out,
                                           exercises=course.exercises[:1], jobs=1))
        except BatchError as exc:
            seen.append(str(exc))
        seen.append("same" if (out / ".download" / "carol" / FILE).read_text() == marker
                    else "replaced")

    with zipfile.ZipFile(tmp_path / "B.zip", "w") as archive:
        archive.writestr(f"carol/{FILE}", WRONG)
    run_batch(course, BatchRequest(a, out, exercises=course.exercises[:1], jobs=1, export=export))
    assert seen == [f"another `grade batch` is writing {out}", "same"], seen


@pytest.mark.parametrize("layout", ["folders", "canvas"])
def test_hostile_names_reach_the_terminal_grades_json_and_report_html_inert(
        layout: str, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    if layout == "folders":
        (subs / "ann").mkdir()
        (subs / "ann" / FILE).write_text(SOLUTION)
        for name in HOSTILE_NAMES:
            (subs / "ann" / name).write_text("x")
    else:  # Canvas prefixes every file with the student's (squashed) name and ids
        (subs / f"lee\x1b[2Jann_1001_5001_{FILE}").write_text(SOLUTION)
        (subs / "lee\x1b[2Jann_1001_5001_x\u202etxt.py").write_text("x")
        (subs / "lee\x1b[2Jann_1001_5001_a\nwarning: forged line.txt").write_text("x")
        (subs / f"zoe_1002_5002_{FILE}").write_text(SOLUTION)
    out = tmp_path / "out"
    done = subprocess.run([*grade_command(), "--course", str(ROOT / "course.yaml"), "batch",
                           str(subs), "--out", str(out), "--exercise", "exercise-1"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    for surface, text in (("stderr", done.stderr + done.stdout),
                          ("grades.json", (out / "grades.json").read_text()),
                          ("report.html", (out / "report.html").read_text()),
                          ("canvas.csv", (out / "canvas.csv").read_text())):
        for raw in ("\x1b", "\u202e", "\x07"):
            assert raw not in text, fail(raw, "escaped", f"a download's name reached {surface}")
    forged = [line for line in done.stderr.splitlines() if line.startswith("warning: forged")]
    assert not forged, fail(forged, [], "a newline in a file name forged a warning line")


def test_two_gradescope_submissions_naming_one_student_are_both_refused(
        course: Course, tmp_path: Path) -> None:
    root = tmp_path / "gs"
    for folder, text in (("submission_1", SOLUTION), ("submission_2", WRONG)):
        (root / folder).mkdir(parents=True)
        (root / folder / FILE).write_text(text)
    (root / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :sid: '7'\n    :email: a@x.edu\n"
        "  - :sid: '8'\n    :email: b@x.edu\n"
        "submission_2:\n  :submitters:\n  - :sid: '7'\n    :email: a@x.edu\n")
    students, skipped, _ = discover(root, course.exercises)
    assert [s.id for s in students] == ["8"], fail(
        [s.id for s in students], ["8"], "student 7 is in two submissions: guessing which "
        "is theirs can give them another's grade")
    assert [s.name for s in skipped] == ["7"] and "submission_1, submission_2" in (
        skipped[0].reason)
