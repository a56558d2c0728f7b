"""The batch's parts on their own: the journal, student ids, the report's charts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.discover import discover, id_problem
from grader.batch.journal import Entry, Journal, JournalBusy, read_entries
from grader.results import ExerciseResult
from tests.conftest import ROOT


def entry(student: str, score: float) -> Entry:
    result = ExerciseResult(exercise="exercise-1", score=score, max_score=10, error=None,
                            checks=[])
    return Entry(student=student, exercise="exercise-1", fingerprint="f", result=result)


def test_a_torn_last_line_is_skipped_and_the_next_append_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append(entry("ann", 10))
    whole = entry("ben", 7).model_dump_json().encode()
    with path.open("ab") as f:
        f.write(whole[: len(whole) // 2])  # what a SIGKILL mid-write leaves
    entries, lines = read_entries(path)
    assert list(entries) == [("ann", "exercise-1")] and lines == 2
    with Journal(path) as journal:
        journal.append(entry("ben", 7))
        assert {k: e.result.score for k, e in journal.read().items()} == {
            ("ann", "exercise-1"): 10, ("ben", "exercise-1"): 7}


def test_one_outdir_takes_one_batch_at_a_time(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.jsonl"), pytest.raises(
            JournalBusy, match="another `grade batch` is writing"):
        Journal(tmp_path / "journal.jsonl").__enter__()


@pytest.mark.parametrize(("name", "reason"), [
    ("..", "starts with a dot"), (".git", "starts with a dot"), ("a\\b", "path separator"),
    ("tab\there", "control or invisible"), ("evil\u202egpj.exe", "control or invisible"),
    ("a\u200bnn", "control or invisible"), ("ann\ufeff", "control or invisible"),
    ("x" * 201, "longer than 200 bytes"), ("   ", "blank"),
])
def test_ids_that_could_escape_or_mislead_are_rejected(name: str, reason: str) -> None:
    problem = id_problem(name)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("name", ["ann", "Zoë Müller", "a,b", "=1+1", "s0001", "x" * 200])
def test_ordinary_and_escapable_ids_are_accepted(name: str) -> None:
    assert id_problem(name) is None


def test_symlinked_folders_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    students, skipped, _ = discover(tmp_path)
    assert [s.id for s in students] == ["real"]
    assert [(s.name, s.reason) for s in skipped] == [
        ("link", "it is a symbolic link; copy the student's folder itself")]


def test_the_report_draws_its_charts_as_escaped_svg_without_a_plotting_library() -> None:
    script = (
        "import sys\n"
        "from grader.reports.html import report_html\n"
        "from grader.results import *\n"
        "check = CheckResult(name='<script>alert(1)</script>', passed=False, score=0,\n"
        "                    max_score=1, message='m')\n"
        "e = ExerciseResult(exercise='e', score=0, max_score=1, error=None, checks=[check])\n"
        "r = ClassResult(course='C', exercises=[ExerciseInfo(id='e', title='E', max_score=1)],\n"
        "                students=[StudentResult(student='<b>x', exercises=[e])])\n"
        "print(report_html(r))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'numpy')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    html, imported = done.stdout.rsplit("\n", 2)[0], done.stdout.rsplit("\n", 2)[1]
    assert imported == "[]"
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
    assert html.count("<title>") == 1 + 2 + 2  # the page's, each chart's, each bar's
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "1 students scored 0" in html  # the histogram's bar says what it shows
    assert "<b>x" not in html


def test_fingerprint_covers_the_helper_modules_checks_import(tmp_path: Path) -> None:
    import shutil

    from grader.batch.fingerprint import course_digest
    from grader.course import load_course

    for part in ("course.yaml", "checks"):
        source = ROOT / part
        shutil.copytree(source, tmp_path / part) if source.is_dir() else shutil.copy(
            source, tmp_path / part)
    course = load_course(tmp_path / "course.yaml")
    exercise = course.exercise("exercise-2")
    before = course_digest(course, exercise)
    with (tmp_path / "checks" / "markov.py").open("a") as helper:
        helper.write("\n# a change in a helper changes every verdict built on it\n")
    assert course_digest(course, exercise) != before


def test_a_folder_or_pipe_named_like_a_submission_is_an_error_not_a_hang(tmp_path: Path,
                                                                         run_grade) -> None:
    import os

    ann, ben = tmp_path / "class" / "ann", tmp_path / "class" / "ben"
    (ann / "exercise_1_weighted_sampling.py").mkdir(parents=True)
    ben.mkdir()
    os.mkfifo(ben / "exercise_1_weighted_sampling.py")
    done = run_grade("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                     "--exercise", "exercise-1", timeout=60)
    assert done.returncode == 0, done.stderr
    grades = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert [s["exercises"][0]["error"] for s in grades] == [
        "exercise_1_weighted_sampling.py is not a regular file; submit the file itself"] * 2


def test_lone_surrogates_from_learner_code_cannot_break_a_report(grade_text) -> None:
    source = ('weather = {"sunny": 1.0}\nprint("\\udc80")\n'
              'def sample(dist):\n    return "\\ud800"\n')
    result = grade_text("exercise-1", source)
    text = result.model_dump_json()  # raised PydanticSerializationError before
    assert "\\\\udc80" in text and "\\\\ud800" in text


FSYNC_COUNT = """
import os, sys
from pathlib import Path
from grader.batch.journal import Entry, Journal, read_entries
from grader.results import ExerciseResult
calls = []
real = os.fsync
os.fsync = lambda fd: (calls.append(fd), real(fd))[1]  # counts, and still syncs
path = Path(sys.argv[1])
with Journal(path) as journal:
    for i in range(40):
        result = ExerciseResult(exercise="e", score=i, max_score=40, error=None, checks=[])
        journal.append(Entry(student=f"s{i:02d}", exercise="e", fingerprint="f", result=result))
    during = len(calls)
print(during, len(calls), len(read_entries(path)[0]))
"""


def test_a_class_of_40_results_is_journaled_with_a_few_fsyncs_not_one_each(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FSYNC_COUNT, str(tmp_path / "journal.jsonl")],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    during, total, entries = map(int, done.stdout.split())
    # 40 appends take milliseconds: within SYNC_SECONDS few of them fsync (not 40),
    # and closing the journal makes the rest durable.
    assert during <= 2 and total <= 3 and entries == 40, (
        f"fsyncs while appending {during}, in all {total}, entries {entries}; expected "
        "<= 2, <= 3 and 40: one fsync per batch of results, every result kept")


def test_the_journal_returns_what_it_appended_without_reading_it_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.jsonl") as journal:
        assert journal.read() == {}
        appended = entry("ann", 10)
        journal.append(appended)
        again = journal.read()
        assert again[appended.key] is appended and journal.lines == 1, (
            f"read back {again}, lines {journal.lines}: the batch holds the lock, so what "
            "it appended need not be parsed and validated again")
    assert read_entries(tmp_path / "journal.jsonl")[0] == {appended.key: appended}


HELD_MEMORY = """
import gc, sys, tracemalloc
from pathlib import Path
from grader.batch.journal import Entry, read_entries
from grader.results import CheckResult, CheckStatus, ExerciseResult, WrongAnswer
path = Path(sys.argv[1])
lines = []
for i in range(300):  # 300 students' results of a 7-check exercise, as a worker sends them
    checks = [CheckResult(name=f"check {n} of the exercise, as its author named it",
                          passed=(i + n) % 3 > 0, score=float((i + n) % 3 > 0), max_score=1.0,
                          message="passed" if (i + n) % 3 else f"sample returned {i}",
                          hint=None if (i + n) % 3 else "Read the weights in order.",
                          status=CheckStatus.PASSED if (i + n) % 3 else CheckStatus.FAILED,
                          wrong=None if (i + n) % 3 else WrongAnswer(observed=str(i)))
              for n in range(7)]
    result = ExerciseResult(exercise="exercise-1", score=sum(c.score for c in checks),
                            max_score=7, error=None, checks=checks, output=f"run {i}\\n")
    lines.append(Entry(student=f"s{i:03d}", exercise="exercise-1", fingerprint=f"{i:064x}",
                       result=result).model_dump_json())
path.write_text("\\n".join(lines) + "\\n")
read_entries(path)  # validators built, caches warm
gc.collect()
tracemalloc.start()
entries, _ = read_entries(path)
held = tracemalloc.get_traced_memory()[0]
same = [e.model_dump_json() for e in entries.values()] == lines
print(held // len(entries), same)
"""


def test_a_result_read_back_from_the_journal_is_held_in_a_few_kilobytes(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", HELD_MEMORY, str(tmp_path / "journal.jsonl")],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    per_result, same = done.stdout.split()
    # A batch holds every result until its exports: at 1000 x 3 this is most of its
    # peak RSS. Held as validated, each result's checks had a field-name set and a
    # copy of every repeated text of their own: 14.8 KB a result here, 6.5 lightened.
    assert int(per_result) < 8000 and same == "True", (
        f"{per_result} bytes held per result, JSON unchanged: {same}; expected under 8000 "
        "and True: the journal's results held lightened (batch/lean.py), dumping as written")
