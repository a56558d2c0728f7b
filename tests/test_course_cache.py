"""The course cache: a hit equals a fresh validation; stale, corrupt or unwritable is ignored."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.course import ConfigError, load_course
from grader.course.cache import CACHE
from tests.conftest import ROOT

GOOD = (ROOT / "course.yaml").read_text()
# An exercise that overrides one limit: the cache must keep which fields were set.
ANCHOR = "    checks: checks/exercise_1.py\n"
assert GOOD.count(ANCHOR) == 1
OVERRIDE = GOOD.replace(ANCHOR, ANCHOR + "    limits:\n      time_limit: 30\n")


def course_file(tmp_path: Path, text: str = OVERRIDE) -> Path:
    path = tmp_path / "course.yaml"
    path.write_text(text)
    return path


def test_a_cached_course_equals_the_validated_one(tmp_path: Path) -> None:
    path = course_file(tmp_path)
    fresh = load_course(path)
    assert (tmp_path / CACHE).is_file()
    cached = load_course(path)
    assert cached.model_dump() == fresh.model_dump()
    first = cached.exercises[0]
    assert first.limits is not None and first.limits.model_fields_set == {"time_limit"}
    assert cached.limits_for(first).time_limit == 30
    assert cached.limits_for(first).memory_mb == fresh.limits_for(first).memory_mb
    assert cached.root == fresh.root == tmp_path.resolve()


def test_a_changed_course_yaml_is_validated_again(tmp_path: Path) -> None:
    path = course_file(tmp_path)
    load_course(path)
    path.write_text(OVERRIDE.replace("time_limit: 30", "time_limit: -1"))
    with pytest.raises(ConfigError) as caught:
        load_course(path)
    found = [(p.field, p.line) for p in caught.value.problems]
    assert found == [("exercises[0].limits.time_limit", 14)]


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"key": 1}', "",
                                     '{"key": "%s", "course": "x"}'])
def test_a_corrupt_cache_is_ignored(tmp_path: Path, garbage: str) -> None:
    path = course_file(tmp_path)
    load_course(path)
    key = json.loads((tmp_path / CACHE).read_text())["key"]
    (tmp_path / CACHE).write_text(garbage.replace("%s", key))
    course = load_course(path)
    assert [e.id for e in course.exercises] == ["exercise-1", "exercise-2", "exercise-3"]
    assert json.loads((tmp_path / CACHE).read_text())["key"] == key  # written anew


def test_a_read_only_course_folder_loads_without_a_cache() -> None:
    # Root writes through read-only modes: load as `nobody` from a folder root owns.
    folder = Path(tempfile.mkdtemp(prefix="grade-readonly-"))
    try:
        folder.chmod(0o755)
        course_file(folder)
        code = ("import sys; from pathlib import Path; from grader.course import load_course; "
                "c = load_course(Path(sys.argv[1])); "
                "print(c.limits_for(c.exercises[0]).time_limit)")
        done = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
             "-c", code, str(folder / "course.yaml")],
            capture_output=True, text=True, timeout=60, cwd="/")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "30.0"
        assert not (folder / CACHE).exists()
    finally:
        shutil.rmtree(folder)


def test_a_cache_file_where_its_folder_should_be_is_ignored(tmp_path: Path) -> None:
    path = course_file(tmp_path)
    (tmp_path / CACHE.parent).write_text("a file, not a folder")
    assert load_course(path).title == load_course(ROOT / "course.yaml").title
