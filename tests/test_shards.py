"""`grade batch --shard I/N` and `grade merge`: shards as separate processes, one gradebook."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.shard import Shard, ShardError, class_digest, partition
from tests.conftest import ROOT, grade_command
from tests.test_batch import batch, run, tree_digest

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from downloads import canvas
from synthetic import FILES, build_class, course_copy, source

STUDENTS = 14
pytestmark = pytest.mark.timeout(600)  # module fixtures grade their class 4 times
GRADEBOOK = ("grades.csv", "grades.json", "canvas.csv")


def merge(course: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`grade merge`, run from `course` (the one the shards were graded with)."""
    return subprocess.run([*grade_command(), "--course", str(course), "merge",
                           *map(str, args)], capture_output=True, text=True, timeout=120)


def graded_in_shards(course: Path, subs: Path, root: Path, *options: str | Path
                     ) -> dict[Path, str]:
    """`subs` graded in 3 shards, run at the same time as separate processes: each
    shard's OUTDIR and what it said on stderr."""
    processes = {root / f"shard{i}": subprocess.Popen(
        batch(course, subs, "--out", root / f"shard{i}", "--shard", f"{i}/3", "--jobs", "1",
              *options), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in (1, 2, 3)}
    said = {}
    for out, process in processes.items():
        _, said[out] = process.communicate(timeout=300)
        assert process.returncode == 0, said[out]
    return said


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A class graded in one run, and in 3 shards run at the same time as separate processes."""
    root = tmp_path_factory.mktemp("shards")
    course = course_copy(root / "course", time_limit=2)
    build_class(root / "subs", STUDENTS, loops=frozenset())
    (root / "subs" / ".hidden").mkdir()  # skipped, and said so, by every shard alike
    single = run(course, root / "subs", "--out", root / "single", "--jobs", "1")
    assert single.returncode == 0, single.stderr
    return {"root": root, "course": course, "subs": root / "subs", "single": root / "single",
            "parts": list(graded_in_shards(course, root / "subs", root))}


def test_three_shards_merge_into_the_single_runs_gradebook_byte_for_byte(
        shards: dict, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    done = merge(shards["course"], *shards["parts"], "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"merged 3 shards: {STUDENTS} students x 3 exercises" in done.stdout
    for name in GRADEBOOK:
        assert (out / name).read_bytes() == (shards["single"] / name).read_bytes(), name
    assert tree_digest(out / "feedback") == tree_digest(shards["single"] / "feedback")
    assert "<code>.hidden</code>" in (out / "report.html").read_text()
    ids = [json.loads((p / "shard.json").read_text())["fingerprints"] for p in shards["parts"]]
    assert sorted(s for share in ids for s in share) == [f"s{i:04d}" for i in range(STUDENTS)]
    assert all(share for share in ids)  # nobody's share is empty


def test_merging_a_shard_twice_names_the_students_in_both(shards: dict, tmp_path: Path) -> None:
    first = shards["parts"][0]
    done = merge(shards["course"], first, *shards["parts"], "--out", tmp_path / "out")
    assert done.returncode == 2
    assert f"{first} and {first} both hold student(s)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_shard_is_named(shards: dict, tmp_path: Path) -> None:
    done = merge(shards["course"], shards["parts"][0], shards["parts"][2], "--out",
                 tmp_path / "out")
    assert done.returncode == 2
    assert "missing shard 2/3: grade it with `grade batch ... --shard 2/3`" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_shard_graded_with_a_changed_check_is_refused(shards: dict, tmp_path: Path) -> None:
    course = course_copy(tmp_path / "course", time_limit=2)
    checks = course.parent / "checks" / "exercise_3.py"
    checks.write_text(checks.read_text() + "\n# fixed a typo\n")
    other = tmp_path / "shard2"
    done = run(course, shards["subs"], "--out", other, "--shard", "2/3", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    refused = merge(shards["course"], shards["parts"][0], other, shards["parts"][2], "--out",
                    tmp_path / "out")
    assert refused.returncode == 2
    assert (f"{other} was graded with a different course from {shards['parts'][0]}"
            in refused.stderr)


def test_shards_of_another_split_another_class_or_version_are_refused(
        shards: dict, tmp_path: Path) -> None:
    first, second, third = shards["parts"]
    edits = {
        "shards": (4, "split the class into different numbers of shards"),
        "grader": ("0.0.1", "was graded with grade 0.0.1 but"),
        "class_digest": ("0" * 64, "was graded from different submissions than"),
    }
    for field, (value, message) in edits.items():
        copy = tmp_path / field
        subprocess.run(["cp", "-r", str(second), str(copy)], check=True)
        manifest = json.loads((copy / "shard.json").read_text())
        manifest[field] = value
        (copy / "shard.json").write_text(json.dumps(manifest))
        done = merge(shards["course"], first, copy, third, "--out", tmp_path / f"out-{field}")
        assert done.returncode == 2, field
        assert message in done.stderr, (field, done.stderr)


def test_shards_graded_with_and_without_a_roster_or_with_different_rosters_are_refused(
        shards: dict, tmp_path: Path) -> None:
    """The roster decides who the class is and the exports' ids: a shard given another
    one (or none) would merge into a class no single run could give."""
    first, _, third = shards["parts"]
    rosters = {}
    for name, email in (("one", "example.org"), ("two", "example.net")):
        rosters[name] = tmp_path / f"{name}.csv"
        rosters[name].write_text("id,name,email\n" + "".join(
            f"s{i:04d},Student {i},s{i}@{email}\n" for i in range(STUDENTS)))
    given = {}
    for name, roster in rosters.items():
        given[name] = tmp_path / f"shard2-{name}"
        done = run(shards["course"], shards["subs"], "--out", given[name], "--shard", "2/3",
                   "--jobs", "1", "--roster", roster)
        assert done.returncode == 0, done.stderr
    refused = merge(shards["course"], first, given["one"], third, "--out", tmp_path / "out1")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (f"{given['one']} was graded with a --roster but {first} without --roster"
            in refused.stderr), refused.stderr
    assert "grade every shard with the same --roster" in refused.stderr
    parts = [tmp_path / f"shard{i}-one" for i in (1, 3)]
    for part, label in zip(parts, ("1/3", "3/3"), strict=True):
        done = run(shards["course"], shards["subs"], "--out", part, "--shard", label,
                   "--jobs", "1", "--roster", rosters["one"])
        assert done.returncode == 0, done.stderr
    refused = merge(shards["course"], parts[0], given["two"], parts[1], "--out", tmp_path / "o2")
    assert refused.returncode == 2
    assert f"{given['two']} and {parts[0]} were graded with different rosters" in refused.stderr
    same = merge(shards["course"], parts[0], given["one"], parts[1], "--out", tmp_path / "o3")
    assert same.returncode == 0, same.stderr  # one roster throughout: merged


def test_an_unfinished_shard_is_refused(shards: dict, tmp_path: Path) -> None:
    copy = tmp_path / "unfinished"
    subprocess.run(["cp", "-r", str(shards["parts"][1]), str(copy)], check=True)
    journal = copy / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-2]) + "\n")
    done = merge(shards["course"], shards["parts"][0], copy, shards["parts"][2], "--out",
                 tmp_path / "out")
    assert done.returncode == 2
    assert f"{copy} (shard 2/3) is unfinished: 2 of its {len(lines)} results are missing" in (
        done.stderr)


def test_an_outdir_that_is_no_shard_is_refused(shards: dict, tmp_path: Path) -> None:
    done = merge(shards["course"], shards["single"], "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "holds no shard.json: it was not graded with `grade batch ... --shard I/N`" in (
        done.stderr)


@pytest.mark.parametrize(("text", "message"), [
    ("0/3", "I must be between 1 and N"), ("4/3", "I must be between 1 and N"),
    ("two", "write I/N, e.g. 1/3"),
])
def test_a_bad_shard_option_exits_2_with_a_reason(shards: dict, text: str, message: str,
                                                  tmp_path: Path) -> None:
    done = run(shards["course"], shards["subs"], "--out", tmp_path / "out", "--shard", text)
    assert done.returncode == 2
    assert message in done.stderr
    with pytest.raises(ShardError):
        Shard.parse(text)


def test_the_split_is_stable_balanced_and_covers_every_student_once() -> None:
    files = {f"student-{i}": (i * 7) % 4 for i in range(101)}  # 0 to 3 files each
    split = partition(files, 4)
    assert sorted(s for share in split for s in share) == sorted(files)
    loads = [sum(files[s] for s in share) for share in split]
    assert max(loads) - min(loads) <= max(files.values())
    reordered = dict(sorted(files.items(), reverse=True))
    assert partition(reordered, 4) == split  # depends on the class, not on listing order
    assert class_digest(reordered) == class_digest(files)
    assert class_digest({**files, "student-0": 3}) != class_digest(files)



DEADLINE = "2026-12-01T23:59:00+00:00"
# student: (what they hand in for every exercise, nbgrader's timestamp.txt or None)
HANDED = {
    "ann": ("solution", "2026-12-01 12:00:00.000000 UTC"),  # on time
    "ben": ("solution", "2026-12-03 08:00:00.000000 UTC"),  # 2 days late: -2 of 10 each
    "cat": ("mutant", "2026-12-03 08:00:00.000000 UTC"),  # as late, but with an extension
    "dan": ("mutant", "2026-12-01 23:00:00.000000 UTC"),  # on time; a check overridden
    "eve": ("solution", None),  # no time recorded; not on the roster
    "fay": ("syntax", "2026-12-01 20:00:00.000000 UTC"),
}
DRAWS = "Draws from weather follow its weights"
SETTLED = (*GRADEBOOK, "moodle.csv", "state.json")


@pytest.fixture(scope="module")
def late_class(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A course with a deadline (10% a day late), extensions.csv beside course.yaml, an
    overrides.csv and a roster: an nbgrader download graded in one run and in 3 shards
    merged; then the override is withdrawn and both are run again into the same OUTDIRs."""
    root = tmp_path_factory.mktemp("late")
    course = course_copy(root / "course", time_limit=5)
    text = course.read_text()
    course.write_text(text.replace("limits:\n", f"deadline: {DEADLINE}\nlate_policy:\n"
                                   "  penalty_percent: 10\n  per: day\nlimits:\n", 1))
    (course.parent / "extensions.csv").write_text(
        "student,exercise,deadline,reason\n"
        "cat,,2026-12-05T12:00:00+00:00,illness\n"
        "zed,exercise-1,2026-12-05T12:00:00+00:00,a student of another class\n")
    overrides, withdrawn = root / "overrides.csv", root / "withdrawn.csv"
    overrides.write_text("student,exercise,check,points,reason,by\n"
                         f"dan,exercise-1,{DRAWS},2,the seed was unlucky,ta-kim\n")
    withdrawn.write_text("student,exercise,check,points,reason,by\n")
    roster = root / "roster.csv"
    roster.write_text("id,name,email,sis_id\n" + "".join(
        f"{s},{s.title()},{s}@example.org,90{i}\n"
        for i, s in enumerate([*HANDED, "gus"]) if s != "eve"))  # gus hands in nothing
    subs = root / "subs"
    for student, (kind, stamp) in HANDED.items():
        folder = subs / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        for exercise, name in FILES.items():
            (folder / name).write_text(source(kind, exercise))
        if stamp:
            (folder / "timestamp.txt").write_text(stamp)
    single, merged = root / "single", root / "merged"
    first = run(course, subs, "--out", single, "--jobs", "1", "--roster", roster,
                "--overrides", overrides)
    assert first.returncode == 0, first.stderr
    shards = graded_in_shards(course, subs, root, "--roster", roster, "--overrides", overrides)
    parts = list(shards)
    joined = merge(course, *parts, "--out", merged, "--overrides", overrides)
    assert joined.returncode == 0, joined.stderr
    for out in (single, merged):
        shutil.copytree(out, root / f"{out.name}-first")
    again = run(course, subs, "--out", single, "--jobs", "1", "--roster", roster,
                "--overrides", withdrawn)
    assert again.returncode == 0, again.stderr
    rejoined = merge(course, *parts, "--out", merged, "--overrides", withdrawn)
    assert rejoined.returncode == 0, rejoined.stderr
    return {"root": root, "course": course, "parts": parts, "shards": shards, "first": first,
            "joined": joined, "again": again, "rejoined": rejoined}


def test_shards_of_a_class_with_deadlines_extensions_and_overrides_merge_into_the_single_runs_gradebook(  # noqa: E501
        late_class: dict) -> None:
    root = late_class["root"]
    single, merged = root / "single-first", root / "merged-first"
    for name in SETTLED:
        assert (merged / name).read_bytes() == (single / name).read_bytes(), name
    assert tree_digest(merged / "feedback") == tree_digest(single / "feedback")
    said = warnings(late_class["joined"].stderr)
    assert said == warnings(late_class["first"].stderr)
    assert any("extension for 'zed': no such student in this batch" in w for w in said), said
    assert any("not on the roster, graded all the same: eve" in w for w in said), said
    # The scores were settled, not joined raw: ben lost 2 points a file, cat none (her
    # extension), dan's overridden check counts, gus is on the roster with nothing.
    grades = {s["student"]: {e["exercise"]: e["score"] for e in s["exercises"]}
              for s in json.loads((merged / "grades.json").read_text())}
    assert grades["ben"] == dict.fromkeys(FILES, 8.0)
    assert grades["cat"] == {"exercise-1": 6.0, "exercise-2": 7.0, "exercise-3": 8.0}
    assert grades["dan"]["exercise-1"] == 8.0
    assert grades["eve"] == dict.fromkeys(FILES, 10.0)
    assert grades["gus"] == dict.fromkeys(FILES, 0.0)
    assert "\nBen,,901,ben,,8,8,8\n" in (merged / "canvas.csv").read_text()  # the roster's
    assert not (merged / "changes.csv").exists()  # a first merge, as a first run
    for stderr in late_class["shards"].values():  # a shard warns of its own students only
        assert "'zed': no such student" in stderr
        assert "'cat': no such student" not in stderr
        assert "'dan': no such student" not in stderr


def test_merging_again_into_the_same_outdir_writes_the_changes_a_second_run_would(
        late_class: dict) -> None:
    root = late_class["root"]
    for name in (*SETTLED, "changes.csv", "changes.md"):
        assert (root / "merged" / name).read_bytes() == (root / "single" / name).read_bytes(), (
            name)
    assert tree_digest(root / "merged" / "feedback") == tree_digest(root / "single" / "feedback")
    assert "since the last run: 1 student moved, 2 scores" in late_class["rejoined"].stdout
    assert "since the last run: 1 student moved, 2 scores" in late_class["again"].stdout
    assert "no longer: override of" in (root / "merged" / "changes.csv").read_text()


def test_shards_of_a_canvas_download_with_a_late_mark_merge_into_the_single_runs_gradebook(
        late_class: dict, tmp_path: Path) -> None:
    """Canvas marks 1002's file late without a time: no penalty, a warning, in both; the
    names come from the download and canvas.csv's id column from its layout."""
    course, subs = late_class["course"], canvas(tmp_path / "download")
    one = ("--exercise", "exercise-1")
    single = run(course, subs, "--out", tmp_path / "single", *one)
    assert single.returncode == 0, single.stderr
    parts = graded_in_shards(course, subs, tmp_path, *one)
    joined = merge(course, *parts, "--out", tmp_path / "merged")
    assert joined.returncode == 0, joined.stderr
    for name in SETTLED:
        assert (tmp_path / "merged" / name).read_bytes() == (
            tmp_path / "single" / name).read_bytes(), name
    assert tree_digest(tmp_path / "merged" / "feedback") == tree_digest(
        tmp_path / "single" / "feedback")
    said = warnings(joined.stderr)
    assert said == warnings(single.stderr)
    assert any("1002, exercise-1: the download marks it late but records no time" in w
               for w in said), said
    assert "\nnunezjose,1002,,,,10\n" in (tmp_path / "merged" / "canvas.csv").read_text()


def test_merging_with_another_course_or_shards_without_submission_times_is_refused(
        late_class: dict, tmp_path: Path) -> None:
    parts = late_class["parts"]
    other = course_copy(tmp_path / "course", time_limit=5)  # the checks alike; no deadline
    checks = other.parent / "checks" / "exercise_2.py"
    checks.write_text(checks.read_text() + "\n# a fix after grading\n")
    done = merge(other, *parts, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert f"{parts[0]} was graded with a different course from {other.parent}" in done.stderr
    older = tmp_path / "older"
    shutil.copytree(parts[1], older)
    manifest = json.loads((older / "shard.json").read_text())
    del manifest["handed"]  # as a grade before submission times were recorded wrote it
    (older / "shard.json").write_text(json.dumps(manifest))
    done = merge(late_class["course"], parts[0], older, parts[2], "--out", tmp_path / "out2")
    assert done.returncode == 2
    assert f"{older} (shard 2/3) does not record when its students handed in" in done.stderr
    assert "Traceback" not in done.stderr
