"""The batch's parts on their own: the journal, student ids, the report without charts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.discover import discover, id_problem
from grader.batch.journal import Entry, Journal, JournalBusy, read_entries
from grader.reports.html import NO_CHARTS
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
    ("tab\there", "control characters"), ("evil\u202egpj.exe", "control characters"),
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
    students, skipped = discover(tmp_path)
    assert [s.id for s in students] == ["real"]
    assert [(s.name, s.reason) for s in skipped] == [
        ("link", "it is a symbolic link; copy the student's folder itself")]


def test_without_matplotlib_the_report_has_tables_and_says_how_to_get_charts() -> None:
    script = (
        "import sys; sys.modules['matplotlib'] = None\n"  # import matplotlib now fails
        "from grader.reports.html import report_html\n"
        "from grader.results import *\n"
        "check = CheckResult(name='c', passed=False, score=0, max_score=1, message='m')\n"
        "e = ExerciseResult(exercise='e', score=0, max_score=1, error=None, checks=[check])\n"
        "r = ClassResult(course='C', exercises=[ExerciseInfo(id='e', title='E', max_score=1)],\n"
        "                students=[StudentResult(student='<b>x', exercises=[e])])\n"
        "print(report_html(r))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(NO_CHARTS) == 2 and "<img" not in done.stdout
    assert "<td>e</td><td>c</td>" in done.stdout  # the pass-rate table is still there
    assert "<b>x" not in done.stdout
