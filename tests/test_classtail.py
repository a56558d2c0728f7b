"""`grade batch`'s end (classtail): the exports' imports stay light, and reading the
journal back after grading does not wait for the disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_the_reports_html_escape_is_the_stdlib_s_without_importing_it() -> None:
    import html

    from grader.reports.cells import escape

    for text in ["<a href=\"x\">'&amp;'</a>", "&&<<>>\"\"''", "plain", "", "é & ü <b>"]:
        assert escape(text) == html.escape(text), fail(escape(text), html.escape(text),
                                                       "the same five characters escaped")
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, grader.batch.regrade, grader.reports.export; "
         "print(sorted(m for m in ('html', 'grader.batch.submitted', 'grader.batch.tables') "
         "if m in sys.modules))"], capture_output=True, text=True, check=True).stdout.strip()
    assert imported == "[]", fail(imported, "[]", "the exports' imports (made while the "
                                  "workers grade) skip html, the times and the tables' readers")


SLOW_FSYNC = """
import os, sys, threading, time
from pathlib import Path
from grader.batch.journal import Entry, Journal, read_entries
from grader.results import ExerciseResult
real, calls = os.fsync, []
def fsync(fd):  # a disk that takes 0.3 s to flush (a VM's, a network drive's)
    time.sleep(0.3)
    real(fd)
    calls.append(threading.current_thread().name)
os.fsync = fsync
path = Path(sys.argv[1])
with Journal(path) as journal:
    journal.read()
    result = ExerciseResult(exercise="e", score=1, max_score=1, error=None, checks=[])
    journal.append(Entry(student="ann", exercise="e", fingerprint="f", result=result))
    started = time.monotonic()
    journal.read()
    waited = time.monotonic() - started
    before_close = len(calls)
print(f"{waited:.3f}", before_close, ",".join(calls), len(read_entries(path)[0]))
"""


def test_reading_the_journal_back_does_not_wait_for_the_disk_but_closing_it_does(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SLOW_FSYNC, str(tmp_path / "journal.jsonl")],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    waited, before_close, calls, entries = done.stdout.split()
    assert float(waited) < 0.2, fail(waited, "< 0.2 s", "the batch assembles its results "
                                     "while their fsync runs in a thread")
    assert calls == "journal-fsync" and before_close == "0" and entries == "1", fail(
        (before_close, calls, entries), ("0", "journal-fsync", "1"),
        "one fsync, in its thread, finished by the time the journal is closed")
