"""`grade batch`'s main process while its local workers grade (mainlean): files go to
forked workers over pipes the batch's own thread feeds and reads, with no executor
threads beside it; a batch that stops reading early leaves no worker behind."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.batch import BatchRequest, run_batch
from grader.batch.pool import PipePool, course_plans
from grader.course import Course, load_course
from grader.sandbox.levels import linux_sandbox_runs
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tests"))
from attacks import FILE, SOLUTION

pytestmark = pytest.mark.skipif(not linux_sandbox_runs(),
                                reason="the pipe pool is the batch's where workers fork")


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


def _class(root: Path, students: int) -> Path:
    for index in range(students):
        folder = root / f"s{index:02d}"
        folder.mkdir(parents=True)
        (folder / FILE).write_text(SOLUTION)
    return root


def test_the_batch_process_grades_with_no_thread_beside_its_own(course: Course,
                                                                tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", 4)
    seen: list[int] = []
    run = run_batch(course, BatchRequest(
        subs, tmp_path / "out", exercises=course.exercises[:1], jobs=2,
        progress=lambda done, total: seen.append(threading.active_count())))
    assert run.graded == 4, fail(run.graded, 4, "every file graded")
    assert seen == [1, 1, 1, 1], fail(
        seen, [1, 1, 1, 1], "as each result is in, the batch process runs its own thread "
        "only (ProcessPoolExecutor ran a manager and a queue-feeder thread beside it)")


def test_a_pool_left_before_its_last_result_ends_its_workers(course: Course,
                                                             tmp_path: Path) -> None:
    subs = _class(tmp_path / "subs", 6)
    exercise = course.exercises[0]
    work = [(index, exercise, path) for index, path in enumerate(sorted(subs.glob(f"*/{FILE}")))]
    pool = PipePool(course_plans(course), 2).__enter__()
    processes = []
    try:
        for _ in pool.grade(work):
            processes = list(pool._processes)
            break  # the batch reads one result and stops (e.g. an export's error next)
    finally:
        started = time.monotonic()
        pool.__exit__(None)
    alive = [p.pid for p in processes if p.is_alive()]
    assert processes and alive == [], fail(alive, [], "every worker ended when the pool was "
                                           "left: files still queued are graded, then each "
                                           "worker takes its stop and ends")
    assert time.monotonic() - started < 60, fail(time.monotonic() - started, "< 60 s", "")
    shutil.rmtree(subs)
