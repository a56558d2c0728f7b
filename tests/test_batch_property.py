"""The class invariants over generated downloads (hypothesis): every submission maps to
exactly one student or is listed as skipped; no two submissions share a student;
nothing is written outside OUTDIR; no input stops the class; every moodle.csv row
fills the columns Moodle matches by. Each example is a real `run_batch` (real
workers and sandboxes), so the examples are few."""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader.batch import BatchRequest, run_batch
from grader.batch.discover import download_text
from grader.batch.layouts import Layout
from grader.batch.roster import RosterRow
from grader.course import Course, load_course
from grader.learner_text import ERROR_CHARS, NAME_CHARS
from grader.reports.export import write_exports
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tests"))
from attacks import FILE, SOLUTION

# Ids a TA meets: plain, case and Unicode-form twins, a SIS-id-looking one, spaces,
# text-direction marks, path tricks, spreadsheet formulas, commas.
IDS = ["ann", "Ann", "bob", "S-1", "José", "Jose\u0301", " ann", "x\u202ey", ".hid", "=1+1",
       "c,d", "ünï", "a" * 210]
STRAYS = ["notes.txt", "\x1b[2Jx.txt", "a\nwarning: forged.txt", "b\u202etxt.py",
          "exercise_1 (1).py"]
CONTENTS = [SOLUTION, "x = (\n", ""]


@dataclass(frozen=True)
class Submitter:
    id: str
    content: str  # "" : no exercise file at all
    strays: tuple[str, ...]


submitters = st.lists(
    st.builds(Submitter, st.sampled_from(IDS), st.sampled_from(CONTENTS),
              st.lists(st.sampled_from(STRAYS), max_size=2, unique=True).map(tuple)),
    min_size=1, max_size=4)
roster_rows = st.lists(
    st.builds(RosterRow, id=st.sampled_from(["ann", "bob", "S-1", "José", "zed"]),
              email=st.sampled_from(["", "e@x.edu", "f@x.edu"]),
              sis_id=st.sampled_from(["", "S-1", "S-2"])),
    max_size=4, unique_by=lambda r: r.id)


def _write_folders(root: Path, people: list[Submitter]) -> dict[str, Path]:
    """One folder per submitter (a later twin writes into the earlier's folder, as a
    disk would); the exercise file of each, where there is one."""
    files = {}
    for person in people:
        folder = root / person.id if "/" not in person.id else root / "bad"
        folder.mkdir(parents=True, exist_ok=True)
        if person.content:
            (folder / FILE).write_text(person.content, encoding="utf-8")
            files[person.id] = folder / FILE
        for stray in person.strays:
            (folder / stray).write_text("x", encoding="utf-8")
    return files


def _write_canvas(root: Path, people: list[Submitter]) -> dict[str, Path]:
    """Canvas's flat files: `<squashed name>_<user id>_<submission id>_<file>`, one user
    id per submitter."""
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for number, person in enumerate(people):
        squashed = "".join(c for c in person.id if c.isalnum()).lower()[:20] or "x"
        prefix = f"{squashed}_{1000 + number}_{5000 + number}_"  # as Canvas squashes names
        if person.content:
            (root / f"{prefix}{FILE}").write_text(person.content, encoding="utf-8")
            files[str(1000 + number)] = root / f"{prefix}{FILE}"
        for stray in person.strays:
            (root / f"{prefix}{stray}").write_text("x", encoding="utf-8")
    return files


def _tree(folder: Path, leave_out: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if leave_out != p and leave_out not in p.parents}


def _skipped_names(run: object) -> set[str]:
    return {s.name for s in run.results.skipped}  # type: ignore[attr-defined]


def _shown(sid: str) -> set[str]:
    """How a skipped entry may name `sid`: neutralised, escaped, cut to a name's length."""
    escaped = sid.encode("unicode_escape").decode()
    return {sid, escaped, *(download_text(t, n) for t in (sid, escaped)
                            for n in (NAME_CHARS, ERROR_CHARS))}


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


@settings(max_examples=12, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a batch
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(layout=st.sampled_from([Layout.FOLDERS, Layout.CANVAS]), people=submitters,
       roster=st.none() | roster_rows)
def test_every_generated_download_keeps_the_class_invariants(
        course: Course, layout: Layout, people: list[Submitter],
        roster: list[RosterRow] | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="grade-property-"))
    try:
        subs, out = work / "subs", work / "nest" / "out"
        write = _write_folders if layout is Layout.FOLDERS else _write_canvas
        files = write(subs, people)
        before = _tree(work, out.parent)  # OUTDIR and the folder made for it
        run = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1,
                        layout=layout, roster=roster,
                        export=lambda r: write_exports(out, r.results, draw_charts=False)))
        # no input stops the class: every student the run kept has a result
        graded = {s.student for s in run.results.students}
        assert graded == {s.id for s in run.students}, (graded, run.students)
        # every submission maps to exactly one student, or is listed as skipped
        holders: dict[Path, list[str]] = {}
        for student in run.students:
            for path in student.files.values():
                holders.setdefault(path, []).append(student.id)
        skipped = _skipped_names(run)
        for sid, path in files.items():
            owners = holders.get(path, [])
            assert len(owners) == 1 or (not owners and _shown(sid) & skipped), (
                sid, owners, skipped)
            assert len(owners) <= 1, f"two students hold one submission: {owners}"
        # no two submissions share a student
        for student in run.students:
            assert len(set(student.files.values())) == len(student.files)
        # nothing written outside OUTDIR
        assert _tree(work, out.parent) == before, "something was written outside OUTDIR"
        for path in out.rglob("*"):
            assert path.resolve().is_relative_to(out.resolve())
        # every moodle.csv row fills the columns Moodle may match by
        rows = list(csv.DictReader((out / "moodle.csv").open(encoding="utf-8")))
        carried = [c for c in ("Email address", "ID number") if any(r[c] for r in rows)]
        assert all(all(r[c] for c in carried) for r in rows), rows
        unmatched = list(csv.DictReader((out / "unmatched-moodle.csv").open(encoding="utf-8")))
        assert len(rows) + len(unmatched) == len(run.results.students)
    finally:
        shutil.rmtree(work, ignore_errors=True)
