"""What `grade batch` does besides grading: one sandbox per worker, workers started before
the class is read, the command's module light, and exports never whole in memory.

The start-up tests trace the real `grade batch` with strace (process starts and file
opens); the memory test measures `write_exports` with tracemalloc on a made-up class.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from grader.reports.export import write_exports
from grader.results import (
    CheckResult,
    CheckStatus,
    ClassResult,
    ExerciseInfo,
    ExerciseResult,
    StudentResult,
)
from tests.conftest import ROOT, grade_command

SOLUTION_1 = ROOT / "solutions" / "exercise_1_weighted_sampling.py"
STRACE = shutil.which("strace")


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _traced_batch(tmp_path: Path, students: int, jobs: int) -> list[str]:
    """strace's lines (execve, fork-like clones, opens) of one `grade batch` run."""
    for index in range(students):
        (tmp_path / "class" / f"s{index}").mkdir(parents=True)
        shutil.copy(SOLUTION_1, tmp_path / "class" / f"s{index}")
    log = tmp_path / "strace.log"
    done = subprocess.run(
        [str(STRACE), "-f", "-qq", "-s", "200", "-e", "trace=execve,clone,clone3,fork,vfork,openat",
         "-o", str(log), *grade_command(), "--course", str(ROOT / "course.yaml"), "batch",
         str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--exercise", "exercise-1",
         "--jobs", str(jobs)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the batch itself failed")
    return log.read_text().splitlines()


def _zygotes(lines: list[str]) -> int:
    """How many sandbox zygotes started: a Python run with -s -S -c (grade's launcher)."""
    return sum(1 for line in lines if "execve(" in line and '"-s", "-S", "-c"' in line
               and "unshare" not in line.split("execve(", 1)[1].split(",", 1)[0])


@pytest.mark.skipif(STRACE is None, reason="needs strace (apt-get install strace)")
def test_a_batch_starts_one_sandbox_per_worker_and_no_probe(tmp_path: Path) -> None:
    lines = _traced_batch(tmp_path, students=3, jobs=2)
    assert _zygotes(lines) == 2, fail(
        _zygotes(lines), 2, "a sandbox started only to say what isolation the workers "
        "will have costs every batch a zygote's start-up before the first file")


@pytest.mark.skipif(STRACE is None, reason="needs strace (apt-get install strace)")
def test_the_workers_are_forked_before_the_batch_reads_its_class(tmp_path: Path) -> None:
    lines = _traced_batch(tmp_path, students=3, jobs=2)
    parent = lines[0].split()[0]
    mine = [(i, line) for i, line in enumerate(lines) if line.split()[0] == parent]
    # a fork copies the process (no CLONE_VM); subprocess's vfork-like spawns share it
    forks = [i for i, line in mine if re.search(r"\b(clone|clone3|fork)\(", line)
             and "CLONE_VM" not in line and "CLONE_THREAD" not in line]
    journal = next(i for i, line in mine if "openat(" in line and "journal.jsonl" in line)
    assert forks and forks[0] < journal, fail(
        (forks[:2], journal), "the first worker forked before journal.jsonl is opened",
        "the workers' start-up (zygote, checks) must overlap the batch's own import and "
        "reading of the class, not follow it")


def _printed(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh Python's run of `code` (what it imports is what the command would)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)


def _loaded(module: str, *prefixes: str) -> str:
    """The modules named by `prefixes` that importing `module` loads, as printed."""
    return _printed(f"import sys, {module}; print(sorted(m for m in sys.modules "
                    f"if m.startswith({prefixes!r})))").stdout.strip()


def test_the_batch_command_loads_no_models_before_its_workers_start() -> None:
    # The terminal's text helpers (click's colours without click, stand-ins for
    # characters a console cannot encode) are two small modules with no models.
    code = ("import sys, grader.cli.batch; print(sorted(m for m in sys.modules if (m.split('.')[0]"
            " in ('pydantic', 'yaml') or m.startswith(('grader.batch.run', 'grader.reports',"
            " 'grader.results', 'grader.runner.grade'))) and m not in ('grader.reports',"
            " 'grader.reports.ansi', 'grader.reports.plain')))")
    done = _printed(code)
    assert done.stdout.strip() == "[]", fail(
        done.stdout.strip()[:300], "[]", "what grader.cli.batch imports at load delays the "
        "fork of the workers (the options need only grader.batch.names)")


def test_the_class_is_read_with_modules_loaded_after_the_workers_fork() -> None:
    # Discovery, the layouts, zips, the roster, shards and the TA's tables are the batch
    # process's alone (15-20 ms of CPU): loaded before the fork they delayed every file,
    # and no worker needs them.
    loaded = _loaded("grader.cli.batch_run", "grader.batch.discover", "grader.batch.layouts",
                     "grader.batch.safezip", "grader.batch.shard", "grader.batch.roster",
                     "grader.batch.adjust", "grader.batch.submitted", "grader.batch.tables")
    assert loaded == "[]", fail(loaded[:300], "[]",
                                "what only reading the class needs delayed the fork")


def test_the_batch_commands_options_build_no_dataclass_before_the_fork() -> None:
    # A frozen dataclass of 19 fields is five generated functions compiled at import
    # (3-5 ms before the workers fork); the options are a named tuple.
    code = "import sys, grader.cli.batch; print('dataclasses' in sys.modules)"
    done = _printed(code)
    assert done.stdout.strip() == "False", fail(
        done.stdout.strip(), "False", "grader.cli.batch_options builds a dataclass again")


def test_the_exports_modules_load_while_the_workers_grade_not_before_their_fork() -> None:
    # grader.cli.batch_run is imported before the workers are forked: what it loads is
    # on every file's critical path. The final scores' and exports' modules load once
    # the first result is in (batch_run.export_modules).
    loaded = _loaded("grader.cli.batch_run", "grader.reports.export", "grader.reports.html",
                     "grader.reports.moodle", "grader.batch.regrade", "grader.batch.changes")
    assert loaded == "[]", fail(loaded[:300], "[]",
                                "the exports' modules (25-45 ms) delayed the fork")


def test_a_batch_never_imports_package_metadata_for_pydantics_plugins(tmp_path: Path) -> None:
    # grade disables pydantic's plugins (PYDANTIC_DISABLE_PLUGINS=__all__), yet pydantic's
    # loader imports importlib.metadata (email, zipfile, csv: 15-20 ms of CPU) as the
    # first validator is built: before the fork, on every file's critical path.
    for index in range(2):
        (tmp_path / "class" / f"s{index}").mkdir(parents=True)
        shutil.copy(SOLUTION_1, tmp_path / "class" / f"s{index}")
    done = subprocess.run(
        [*grade_command(), "--course", str(ROOT / "course.yaml"), "batch",
         str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--exercise", "exercise-1",
         "--jobs", "2"], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the batch itself failed")
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2}
    assert "pydantic" in imported, fail(sorted(imported)[:20], "pydantic",
                                             "the profile holds the batch's imports")
    assert "importlib.metadata" not in imported, fail(
        "importlib.metadata", "not imported", "pydantic's plugin loader stands in "
        "(grader/models.py, `_no_plugin_loader`)")


def test_pydantics_plugins_still_load_when_grade_does_not_disable_them() -> None:
    # The stand-in answers only for PYDANTIC_DISABLE_PLUGINS=__all__; without it, the
    # models are built with pydantic's own loader (a plugin installed would be used).
    code = ("import sys, grader.results as r; r.WorkerInfo.model_validate_json("
            "'{\"worker\": \"w\", \"host\": \"h\", \"level\": \"l\", \"missing\": []}');"
            " metadata = 'importlib.metadata' in sys.modules; print(getattr(sys.modules["
            "'pydantic.plugin._loader'], 'PYDANTIC_ENTRY_POINT_GROUP', None), metadata)")
    environment = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=environment)
    assert done.stdout.split() == ["pydantic", "True"], fail(
        done.stdout, "pydantic True", "without the variable, pydantic's own loader")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**environment, "PYDANTIC_DISABLE_PLUGINS": "__all__"})
    assert done.stdout.split() == ["pydantic", "False"], fail(
        done.stdout, "pydantic False", "with it: no package metadata, and any other name "
        "of the loader still answered by pydantic's module")


def _big_class(students: int) -> ClassResult:
    checks = [CheckResult(name=f"check number {n} of the exercise", passed=n % 2 == 0,
                          score=n % 2, max_score=1, message="x" * 300,
                          status=CheckStatus.PASSED if n % 2 == 0 else CheckStatus.FAILED)
              for n in range(8)]
    return ClassResult(
        course="c", exercises=[ExerciseInfo(id=f"exercise-{e}", title="t", max_score=8)
                               for e in (1, 2, 3)],
        students=[StudentResult(student=f"s{s:04d}", exercises=[ExerciseResult(
            exercise=f"exercise-{e}", score=4, max_score=8, error=None, checks=checks,
            output="y" * 500) for e in (1, 2, 3)]) for s in range(students)])


def test_the_exports_are_written_as_rendered_never_whole_in_memory(tmp_path: Path) -> None:
    result = _big_class(300)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        write_exports(tmp_path / "out", result, draw_charts=False)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    largest = (tmp_path / "out" / "grades.json").stat().st_size
    assert peak < largest / 2, fail(
        f"{peak / 2**20:.1f} MiB", f"under half of grades.json ({largest / 2**20:.1f} MiB)",
        "grades.json and every per-student file must be written as they are made, not "
        "held whole (9 MB at 1000 students x 3, three times over while it is encoded)")
