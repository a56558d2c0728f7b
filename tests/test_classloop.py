"""`grade batch`'s batch process between its workers' fork and its exit (classloop):
a first run hands each file to the workers as soon as it is hashed."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from grader.batch import BatchRequest, run_batch
from grader.batch.pool import WorkerPool, course_plans
from grader.course import Course, Exercise, load_course
from grader.results import ExerciseResult, WorkerInfo
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tests"))
from attacks import FILE, SOLUTION, WRONG

K = TypeVar("K")


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


class EditsAsItTakes(WorkerPool):
    """The local pool (real workers), which rewrites `path` with `text` when it takes
    its first file: what a student's late upload does to a running batch."""

    def __init__(self, course: Course, path: Path, text: str) -> None:
        super().__init__(course_plans(course), 1)
        self.path, self.text = path, text

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        def taken() -> Iterator[tuple[K, Exercise, Path]]:
            for number, item in enumerate(work):
                if number == 0:
                    self.path.write_text(self.text)
                yield item

        return super().grade(taken())


def test_a_first_run_hands_a_file_to_the_workers_before_hashing_the_next(
        course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for student in ("ann", "bob"):
        (subs / student).mkdir(parents=True)
        (subs / student / FILE).write_text(SOLUTION)
    late = subs / "bob" / FILE
    out = tmp_path / "out"

    def executor(reference: object, files: int) -> EditsAsItTakes:
        return EditsAsItTakes(course, late, WRONG)

    first = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1],
                                           executor=executor))  # type: ignore[arg-type]
    totals = {s.student: s.total for s in first.results.students}
    assert totals == {"ann": 10, "bob": 6}, fail(totals, {"ann": 10, "bob": 6},
                                                "bob's file as it was when graded")
    # Hashed once ann's file was with the workers, bob's file was hashed as graded:
    # stored under its own fingerprint, so the next run reuses it. Hashed with the
    # whole class before any file was handed over, it was "changed while graded".
    again = run_batch(course, BatchRequest(subs, out, exercises=course.exercises[:1],
                                           jobs=1))
    assert (again.graded, again.reused) == (0, 2), fail(
        (again.graded, again.reused), (0, 2),
        "bob's file was hashed before ann's went to the workers (the whole class "
        "planned first), so the first run stored it as changed while graded")
