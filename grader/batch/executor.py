"""What grades a batch's files: the local worker pool or a Dask cluster, behind one protocol."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from grader.batch.pool import WorkerError as WorkerError
from grader.batch.pool import worker_fields
from grader.course import Course, Exercise
from grader.results import ExerciseResult, WorkerInfo, WorkerUse
from grader.runner import Failure, Grader
from grader.runner.source import Source
from grader.sandbox.client import SandboxBackend

K = TypeVar("K")


class Executor(Protocol):
    """Grades files on warm workers; yields each result the moment it is known."""

    @property
    def workers(self) -> int:
        """How many workers grade (for the summary)."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, exc_type: object, *rest: object) -> None: ...

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        """(key, result, the worker that graded it: None when no code ran) per file."""
        ...


# (the batch's grader: course and checks loaded, no sandbox; number of files) -> an
# executor, entered by the batch
ExecutorFactory = Callable[[Grader, int], Executor]


def worker_info(sandbox: SandboxBackend, name: str) -> WorkerInfo:
    """What isolation `sandbox` (started) gives its boxes, as the report shows it."""
    return WorkerInfo(**worker_fields(sandbox, name))


def warm_grader(course: Course, sandbox: SandboxBackend, exercises: Iterable[Exercise]) -> Grader:
    """A worker's grader on its started `sandbox`, with the checks of `exercises` imported
    now (the warm-up of the local pool's workers and of each Dask worker): no file pays
    for an import, and broken checks show before any file is graded."""
    grader = Grader(course, sandbox)
    for exercise in exercises:
        grader.checks(exercise)
    return grader


def grade_safely(grader: Grader, exercise: Exercise, file: Path | Source,
                 started: float | None = None) -> ExerciseResult:
    """Grade one file (at a path, or already read); a grader bug costs that file (a
    grader fault, graded again later)."""
    started = time.monotonic() if started is None else started
    try:
        if isinstance(file, Source):
            return grader.grade_source(exercise, file, started=started)
        return grader.grade(exercise, file)
    except Exception as exc:
        return grader.catalogue.failed(exercise, Failure.fault(exc), started)


def worker_uses(workers: Iterable[WorkerInfo | None]) -> list[WorkerUse]:
    """How many results each worker graded, busiest first (None: nothing ran)."""
    counts = Counter(w.model_dump_json() for w in workers if w is not None)
    return [WorkerUse(worker=WorkerInfo.model_validate_json(text), graded=count)
            for text, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
