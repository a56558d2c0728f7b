"""`grade batch`'s main process up to its workers' fork: no collector passes over the
start-up's objects, none left for a worker to walk, and a course from the cache that
builds no validator.

The batch runs as the console script does (`grader.cli.main`), through a probe that
notes, when the workers fork (`WorkerPool.launch`) and as each worker starts (`_start`),
what the collector did and holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from prefork import HOOK  # the probe's hook, as the bench runs it

SOLUTION_1 = ROOT / "solutions" / "exercise_1_weighted_sampling.py"
PROBE = textwrap.dedent('''
    import gc, json, os, sys
    LOG, ARGS = sys.argv[1], 2
    def note(where):
        with open(LOG, "a") as log:
            log.write(json.dumps({"where": where, "pid": os.getpid(),
                                  "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
                                  "passes": sum(s["collections"] for s in gc.get_stats())})
                      + "\\n")
    def patch(pool):
        launch, start = pool.WorkerPool.launch, pool._start
        def launched(self):
            note("fork")
            return launch(self)
        def started(*args, **kwargs):
            note("worker")
            return start(*args, **kwargs)
        pool.WorkerPool.launch, pool._start = launched, started
''') + HOOK


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _probed_batch(tmp_path: Path, students: int = 3) -> list[dict[str, object]]:
    """A `grade batch --jobs 2` of `students` right answers through the probe: its notes."""
    for index in range(students):
        folder = tmp_path / "class" / f"s{index:02d}"
        folder.mkdir(parents=True)
        shutil.copy(SOLUTION_1, folder / SOLUTION_1.name)
    probe, log = tmp_path / "probe.py", tmp_path / "notes.jsonl"
    probe.write_text(PROBE)
    done = subprocess.run(
        [sys.executable, str(probe), str(log), "--course", str(ROOT / "course.yaml"), "batch",
         str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--exercise", "exercise-1",
         "--jobs", "2"], capture_output=True, text=True, timeout=300, check=False,
        env={k: v for k, v in os.environ.items() if k != "GRADE_DEBUG"})
    assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the batch itself failed")
    assert "graded 3 students" in done.stdout, fail(done.stdout, "graded 3 students", "")
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_workers_fork_with_the_collector_on_and_the_start_ups_objects_frozen(
        tmp_path: Path) -> None:
    notes = _probed_batch(tmp_path)
    forks = [n for n in notes if n["where"] == "fork"]
    workers = [n for n in notes if n["where"] == "worker"]
    assert len(forks) == 1 and len(workers) == 2, fail(notes, "one fork, two workers", "")
    fork = forks[0]
    assert fork["enabled"], fail(fork, "enabled", "the batch collects again once it forks")
    assert isinstance(fork["frozen"], int) and fork["frozen"] > 20_000, fail(
        fork["frozen"], "> 20,000 objects frozen",
        "the start-up's objects (click, pydantic, the course) are out of the collector's "
        "reach before the fork: no pass in the batch or a worker walks them again")
    for worker in workers:
        assert worker["enabled"] and isinstance(worker["frozen"], int) \
            and worker["frozen"] > 20_000, fail(
            worker, "enabled, > 20,000 frozen", "a worker inherits both")


def test_the_collector_makes_few_passes_before_the_fork(tmp_path: Path) -> None:
    fork = next(n for n in _probed_batch(tmp_path) if n["where"] == "fork")
    # Before: ~70 passes (gen 0 and 1) over the imports' objects, 12-15 ms of CPU. Now
    # only those of the interpreter's start and the batch's first imports, until the
    # command line says it is a batch.
    assert isinstance(fork["passes"], int) and fork["passes"] < 30, fail(
        fork["passes"], "< 30 passes before the fork",
        "the collector is off from the batch's early launch until the fork")


def test_a_course_from_the_cache_builds_no_validator(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "bench" / "lfl-course", course)
    load = textwrap.dedent('''
        import json, sys
        from pathlib import Path
        from grader.course.load import load_course
        from grader.course.model import Course, LatePolicy, Limits
        course = load_course(Path(sys.argv[1]))
        print(json.dumps({"complete": [m.__name__ for m in (Course, Limits, LatePolicy)
                                       if m.__pydantic_complete__],
                          "limits": course.limits.model_dump(),
                          "late": course.late_policy.model_dump(),
                          "set": sorted(course.model_fields_set),
                          "limits_set": sorted(course.limits.model_fields_set)}))
    ''')

    def loaded() -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", load, str(course / "course.yaml")],
                              capture_output=True, text=True, timeout=120, check=True)
        return dict(json.loads(done.stdout))

    validated = loaded()  # course.yaml read and validated; the cache written
    cached = loaded()
    assert cached["complete"] == [], fail(
        cached["complete"], [], "a course from the cache is built without any validator, "
        "its default limits and late policy included (each costs a batch's start-up)")
    for field in ("limits", "late", "set", "limits_set"):
        assert cached[field] == validated[field], fail(
            cached[field], validated[field], f"the cached course's {field} as validated")
