"""`grade batch --shard I/N` and `grade merge`: shards as separate processes, one gradebook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.shard import Shard, ShardError, class_digest, partition
from tests.conftest import ROOT, grade_command
from tests.test_batch import batch, run, tree_digest

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import build_class, course_copy

STUDENTS = 14
pytestmark = pytest.mark.timeout(600)  # a module fixture grades the class 4 times
GRADEBOOK = ("grades.csv", "grades.json", "canvas.csv")


def merge(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*grade_command(), "merge", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A class graded in one run, and in 3 shards run at the same time as separate processes."""
    root = tmp_path_factory.mktemp("shards")
    course = course_copy(root / "course", time_limit=2)
    build_class(root / "subs", STUDENTS, loops=frozenset())
    (root / "subs" / ".hidden").mkdir()  # skipped, and said so, by every shard alike
    single = run(course, root / "subs", "--out", root / "single", "--jobs", "1")
    assert single.returncode == 0, single.stderr
    processes = [subprocess.Popen(batch(course, root / "subs", "--out", root / f"shard{i}",
                                        "--shard", f"{i}/3", "--jobs", "1"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in (1, 2, 3)]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    return {"root": root, "course": course, "subs": root / "subs", "single": root / "single",
            "parts": [root / f"shard{i}" for i in (1, 2, 3)]}


def test_three_shards_merge_into_the_single_runs_gradebook_byte_for_byte(
        shards: dict, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    done = merge(*shards["parts"], "--out", out)
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
    done = merge(first, *shards["parts"], "--out", tmp_path / "out")
    assert done.returncode == 2
    assert f"{first} and {first} both hold student(s)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_shard_is_named(shards: dict, tmp_path: Path) -> None:
    done = merge(shards["parts"][0], shards["parts"][2], "--out", tmp_path / "out")
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
    refused = merge(shards["parts"][0], other, shards["parts"][2], "--out", tmp_path / "out")
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
        done = merge(first, copy, third, "--out", tmp_path / f"out-{field}")
        assert done.returncode == 2, field
        assert message in done.stderr, (field, done.stderr)


def test_an_unfinished_shard_is_refused(shards: dict, tmp_path: Path) -> None:
    copy = tmp_path / "unfinished"
    subprocess.run(["cp", "-r", str(shards["parts"][1]), str(copy)], check=True)
    journal = copy / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-2]) + "\n")
    done = merge(shards["parts"][0], copy, shards["parts"][2], "--out", tmp_path / "out")
    assert done.returncode == 2
    assert f"{copy} (shard 2/3) is unfinished: 2 of its {len(lines)} results are missing" in (
        done.stderr)


def test_an_outdir_that_is_no_shard_is_refused(shards: dict, tmp_path: Path) -> None:
    done = merge(shards["single"], "--out", tmp_path / "out")
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

