"""A batch against its surroundings: stale students, look-alike ids, a full disk,
concurrent runs, SIGTERM. Real runs (`run_batch` with real workers and sandboxes,
or the real `grade batch`), a real size-limited tmpfs for the full disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unicodedata
from pathlib import Path

import pytest
from attacks import FILE, LIBRARY, SOLUTION

from grader.atomic import write_atomic
from grader.batch import BatchError, BatchRequest, run_batch
from grader.batch.discover import discover
from grader.batch.journal import read_entries
from grader.course import Course, load_course
from grader.reports.export import write_exports
from tests.conftest import ROOT, grade_command


def _class(root: Path, students: dict[str, str]) -> Path:
    for student, text in students.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        (root / student / FILE).write_text(text)
    return root


def _grade(course: Course, submissions: Path, outdir: Path) -> None:
    exercises = [course.exercises[0]]
    run_batch(course, BatchRequest(submissions, outdir, exercises=exercises, jobs=1,
              export=lambda run: write_exports(outdir, run.results, draw_charts=False)))


def outdir_state(outdir: Path) -> dict[str, object]:
    """What a TA would upload or read, minus wall times: every path, and every byte."""
    state: dict[str, object] = {}
    for path in sorted(outdir.rglob("*")):
        name = str(path.relative_to(outdir))
        if path.is_dir() or name in ("journal.lock", "report.html"):
            state[name] = None  # report.html names the slowest submissions (wall time)
        elif name == "journal.jsonl":
            state[name] = sorted(read_entries(path)[0])
        elif name.startswith("gradescope/"):
            data = json.loads(path.read_text())
            data.pop("execution_time")
            state[name] = data
        else:
            state[name] = path.read_bytes()
    return state


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


WRONG = LIBRARY.replace("if r < cumulative:", "if r < 0.5:")


def test_outdir_after_removals_and_renames_equals_one_clean_run(
        course: Course, tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", {"alice": SOLUTION, "bob": WRONG, "carol": "x = (\n",
                                      "dave": SOLUTION})
    out = tmp_path / "out"
    _grade(course, subs, out)
    assert (out / "feedback" / "carol.md").exists()
    shutil.rmtree(subs / "carol")  # removed
    (subs / "bob").rename(subs / "robert")  # renamed
    (out / ".grades.csv.x1y2.tmp").write_text("left by a killed run")
    _grade(course, subs, out)
    clean = tmp_path / "clean"
    _grade(course, subs, clean)
    assert outdir_state(out) == outdir_state(clean)
    assert not (out / "feedback" / "bob.md").exists()
    assert not (out / "gradescope" / "carol").exists()


@pytest.mark.parametrize("left", [".grades.csv.x1y2.tmp", "gradescope/alice/.results.json.tmp",
                                  "feedback/.alice.md.tmp"])
def test_what_a_run_killed_before_its_exports_left_is_gone_after_the_next(
        course: Course, tmp_path: Path, left: str) -> None:
    # killed while it wrote its first exports: no feedback/ or gradescope/ of an earlier
    # run may be there (then pruning looks at the top only), or only its temporary files
    subs = _class(tmp_path / "subs", {"alice": SOLUTION, "bob": WRONG})
    out = tmp_path / "out"
    (out / left).parent.mkdir(parents=True, exist_ok=True)
    (out / left).write_text("left by a killed run")
    _grade(course, subs, out)
    clean = tmp_path / "clean"
    _grade(course, subs, clean)
    extra = sorted(set(outdir_state(out)) - set(outdir_state(clean)))
    assert extra == [], f"observed {extra}, expected []: a temporary file is never left"
    assert outdir_state(out) == outdir_state(clean)


def test_files_of_a_teaching_assistant_in_outdir_are_left_alone(
        course: Course, tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", {"alice": SOLUTION})
    out = tmp_path / "out"
    (out / "gradescope" / "notes").mkdir(parents=True)
    (out / "gradescope" / "notes" / "todo.txt").write_text("mine")
    (out / "README.txt").write_text("mine")
    _grade(course, subs, out)
    assert (out / "gradescope" / "notes" / "todo.txt").read_text() == "mine"
    assert (out / "README.txt").read_text() == "mine"


# --- look-alike ids ---------------------------------------------------------------

JOSE_NFC = unicodedata.normalize("NFC", "José")
JOSE_NFD = unicodedata.normalize("NFD", "José")


@pytest.mark.parametrize(("pair", "why"), [
    ((JOSE_NFC, JOSE_NFD), "Unicode form"),
    (("bob", "bob "), "spaces"),
    (("Alice", "alice"), "case"),
    (("ﬁona", "fiona"), "compatibility form (a ligature)"),
    (("ZOË", unicodedata.normalize("NFD", "zoë")), "case and Unicode form"),
], ids=["nfc-nfd", "trailing-space", "case", "ligature", "case+nfd"])
def test_ids_that_collide_in_files_are_both_refused(pair: tuple[str, str], why: str,
                                                    tmp_path: Path) -> None:
    for name in (*pair, "carol"):
        (tmp_path / name).mkdir()
    students, skipped, _ = discover(tmp_path)
    assert [s.id for s in students] == ["carol"]
    assert sorted(s.name for s in skipped) == sorted(pair)
    for refused in skipped:
        other = next(p for p in pair if p != refused.name)
        assert refused.reason.startswith(f"its id looks the same as {other!r}"), why


@pytest.mark.parametrize(("name", "note"), [
    ("bob ", "begins or ends with a space"),
    (JOSE_NFD, "is not in Unicode's usual (NFC) form"),
    ("аlice", "mixes Cyrillic and Latin letters"),  # a Cyrillic а
    ("pаypal", "mixes Cyrillic and Latin letters"),
], ids=["space", "nfd", "cyrillic-a", "mixed"])
def test_a_lone_look_alike_id_is_graded_with_a_warning(name: str, note: str,
                                                       tmp_path: Path) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / "alice").mkdir()
    students, skipped, _ = discover(tmp_path)
    assert skipped == [] or all(name not in s.name for s in skipped)
    [student] = [s for s in students if s.id == name]
    assert any(note in n for n in student.notes), student.notes


def test_refused_look_alikes_get_no_files_and_the_batch_says_why(
        course: Course, tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", {"Alice": SOLUTION, "alice": WRONG, "bob": SOLUTION})
    out = tmp_path / "out"
    run = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1,
                    export=lambda run: write_exports(out, run.results, draw_charts=False)))
    assert [s.student for s in run.results.students] == ["bob"]
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["bob.md"]
    assert any(w.startswith("skipped 'Alice': its id looks the same as 'alice'")
               for w in run.warnings)


# --- concurrent runs ----------------------------------------------------------------

def test_the_journal_lock_is_held_through_the_exports(course: Course, tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", {"alice": SOLUTION})
    out = tmp_path / "out"
    seen: list[str] = []

    def export(result: object) -> None:  # a second run starts while the first exports
        try:
            run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1))
        except BatchError as exc:
            seen.append(str(exc))

    run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1], jobs=1,
                                   export=export))
    assert seen == [f"another `grade batch` is writing {out}"]


def test_concurrent_atomic_writes_of_one_file_never_collide(tmp_path: Path) -> None:
    target = tmp_path / "grades.csv"
    errors: list[BaseException] = []

    def writer(text: str) -> None:
        try:
            for _ in range(300):
                write_atomic(target, text)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(c * 1000,)) for c in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text() in ("a" * 1000, "b" * 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]


# --- SIGTERM ends a batch like Ctrl-C ----------------------------------------------

def test_sigterm_ends_a_batch_like_ctrl_c(tmp_path: Path) -> None:
    from attacks import _processes

    def descendants(root: int) -> set[int]:
        table, found, frontier = _processes(), set(), {root}
        while frontier:
            frontier = {pid for pid, (parent, _) in table.items() if parent in frontier}
            found |= frontier
        return found

    course = tmp_path / "course"
    for part in ("checks", "exercises", "solutions"):
        shutil.copytree(ROOT / part, course / part)
    (course / "course.yaml").write_text(
        (ROOT / "course.yaml").read_text().replace("time_limit: 10 ", "time_limit: 60 "))
    subs = _class(tmp_path / "subs", {"ann": "while True:\n    pass\n"})
    process = subprocess.Popen(
        [*grade_command(), "--course", str(course), "batch", str(subs), "--out",
         str(tmp_path / "out"), "--jobs", "1"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # grading: the journal is open, and a worker, its zygote and the box run below us
    while time.monotonic() < deadline and not (
            (tmp_path / "out" / "journal.lock").exists() and len(descendants(process.pid)) >= 3):
        time.sleep(0.05)
    tree = descendants(process.pid)
    assert len(tree) >= 3, "the batch never started grading"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.strip().endswith(f"terminated (SIGTERM): every result so far is saved in "
                                f"{tmp_path / 'out' / 'journal.jsonl'}; run the same "
                                "command again to finish")
    assert "Traceback" not in out + err
    deadline = time.monotonic() + 10
    while tree & set(_processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tree & set(_processes()) == set()  # workers, zygotes and boxes: all gone


# --- a full disk ------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real 16 MB tmpfs (mounted here, as root), or a skip that says why not."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill `disk` to the last byte but about `leave` bytes."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("ab", buffering=0) as f:
        try:
            f.write(b"\0" * max(0, free - leave))
            while not leave:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def _batch(course: Path, subs: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*grade_command(), "--course", str(course), "batch", str(subs),
                           "--out", str(out), "--jobs", "1", "--exercise", "exercise-1"],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("leave", [0, 12_000], ids=["full", "nearly-full"])
def test_a_full_outdir_disk_is_said_loses_nothing_and_leaves_no_temp_file(
        leave: int, tiny_disk: Path, tmp_path: Path) -> None:
    course = ROOT / "course.yaml"
    subs = _class(tmp_path / "subs", {"alice": SOLUTION, "bob": WRONG})
    out = tiny_disk / "out"
    assert _batch(course, subs, out).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    saved = read_entries(out / "journal.jsonl")[0]
    for student in ("carol", "dave", "erin"):  # new work to grade and save
        _class(subs, {student: SOLUTION + "\n# " + "x" * 2000 + "\n"})
    _fill(tiny_disk, leave)
    for _ in range(2):  # a rerun on the still-full disk says the same, cleanly
        done = _batch(course, subs, out)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"the disk of {out} is full (No space left on device): nothing graded " \
               "before is lost" in done.stderr
        assert "Traceback" not in done.stderr and "bug in the grader" not in done.stderr
        assert [p.name for p in out.rglob("*") if p.name.endswith(".tmp")] == []
        entries = read_entries(out / "journal.jsonl")[0]
        assert {k: e.result for k, e in entries.items() if k in saved} == {
            k: e.result for k, e in saved.items()}
        for path, data in before.items():
            if path.name != "journal.jsonl":
                assert path.read_bytes() == data, path  # no export half written
    (tiny_disk / "filler").unlink()
    done = _batch(course, subs, out)
    assert done.returncode == 0, done.stderr
    assert "carol" in (out / "grades.csv").read_text()
