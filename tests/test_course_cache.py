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


DEADLINES = OVERRIDE.replace(ANCHOR, ANCHOR + "    deadline: 2026-12-01T23:59:00+01:00\n"
                             "    late_policy:\n      penalty_percent: 10\n      per: hour\n")


def test_a_cache_hit_builds_no_validator_even_with_deadlines_and_policies(
        tmp_path: Path) -> None:
    # In a fresh interpreter: the validator of a model is built once per process.
    path = course_file(tmp_path, DEADLINES)
    load_course(path)
    probe = ("import sys; from pathlib import Path; from grader.course import load_course; "
             "from grader.course.model import Course; "
             "course = load_course(Path(sys.argv[1])); "
             "print(Course.__pydantic_complete__, course.exercises[0].deadline.isoformat(), "
             "course.late_policy_for(course.exercises[0]).per)")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "2026-12-01T23:59:00+01:00", "hour"]
    assert load_course(path).model_dump() == load_course(path).model_validate(
        load_course(path).model_dump()).model_dump()


def test_a_cached_date_without_its_time_zone_sends_the_course_to_the_validator(
        tmp_path: Path) -> None:
    path = course_file(tmp_path, DEADLINES)
    load_course(path)
    stored = json.loads((tmp_path / CACHE).read_text())
    stored["course"]["exercises"][0]["deadline"] = "2026-12-01T23:59:00"  # edited by hand
    (tmp_path / CACHE).write_text(json.dumps(stored))
    deadline = load_course(path).exercises[0].deadline
    assert deadline is not None and deadline.utcoffset() is not None


def test_every_model_of_grade_builds_its_validator_on_first_use() -> None:
    # A model built at import costs every command that imports it (the learner's too).
    # Generic templates (models.Root) are never validated themselves: not counted.
    # grader.server's modules are Django's (no pydantic model there) and import only once
    # `grade serve` has configured Django: they are left out of the walk.
    probe = ("import importlib, pkgutil, grader; from pydantic import BaseModel\n"
             "for info in pkgutil.walk_packages(grader.__path__, 'grader.'):\n"
             "    if not info.name.endswith('__main__') and not info.name.startswith("
             "'grader.server.'):\n"
             "        importlib.import_module(info.name)\n"
             "def every(cls):\n"
             "    for sub in cls.__subclasses__(): yield sub; yield from every(sub)\n"
             "built = sorted({c.__module__ + '.' + c.__qualname__ for c in every(BaseModel)\n"
             "                if c.__module__.startswith('grader') and c.__pydantic_complete__\n"
             "                and not c.__pydantic_generic_metadata__['parameters']})\n"
             "print(len(list(every(BaseModel))), built)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    count, built = done.stdout.split(" ", 1)
    assert int(count) > 40  # every model of grade was imported and seen
    assert built.strip() == "[]"


def test_the_learners_plan_carries_every_limit_its_exercise_is_graded_with(
        tmp_path: Path) -> None:
    """`grade exercise-N` on a copy grades from the cached plan alone (no model): its
    box must get exactly the limits the course gives the exercise, overrides included."""
    from grader.course.load import cached_plan
    from grader.course.model import Limits
    from grader.course.plan import Planned, PlannedLimits

    path = course_file(tmp_path)
    course = load_course(path)
    first = course.exercises[0]
    plan = Planned.parse(first.id, (cached_plan(path) or {}).get(first.id), tmp_path)
    assert plan is not None, "the cache holds no plan for the first exercise"
    missing = set(Limits.model_fields) ^ set(PlannedLimits._fields)
    assert not missing, f"observed {sorted(missing)} differing, expected none: a limit " \
        "added to course.Limits must reach the plan (course/plan.py)"
    assert plan.limits._asdict() == course.limits_for(first).model_dump()
    assert plan.limits.time_limit == 30 and plan.learned == first.learned
