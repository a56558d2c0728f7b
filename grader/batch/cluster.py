"""Grading on a Dask cluster: a worker plugin keeps one warm grader per worker for its
lifetime, the course travels inside the plugin, and each task carries one file's bytes.

Nothing is shared but the network: no filesystem, no course checkout on the workers
(they need `grade` installed, at the TA's version). When a worker dies, the
scheduler runs its tasks again elsewhere; the TA's process writes each result to the
journal once, as its future completes, so nothing is lost or counted twice.

Trust: a worker's answers are data (JSON text, validated here against the result
models; this client unpickles no result), and a worker whose sandbox cannot contain
learner code (`portable`, `plain`) grades nothing unless the TA allows it: learner
code that escapes its box there reaches `distributed` itself, whose protocol runs
pickles on the scheduler and the clients (docs/cluster.md, "Trust").
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from distributed import Client, Future, KilledWorker, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin
from pydantic import ValidationError

from grader.batch.executor import (
    ExecutorFactory,
    WorkerError,
    grade_safely,
    warm_grader,
    worker_info,
)
from grader.checks import local_modules
from grader.course import Course, Exercise
from grader.models import Model
from grader.results import ErrorKind, ExerciseResult, WorkerInfo
from grader.runner import Failure, Grader
from grader.runner.inputs import source_from_bytes
from grader.runner.source import SubmissionError
from grader.sandbox.client import SandboxError
from grader.sandbox.levels import make_sandbox
from grader.version import __version__

K = TypeVar("K")
# Dask's loggers that set their own level (distributed/config.py); the rest inherit.
DASK_LOGS = ("distributed", "distributed.client", "distributed.gc")
# Seconds to reach the scheduler, then again for a first worker to join (default 60).
WAIT_VARIABLE = "GRADE_DASK_WAIT"
IN_FLIGHT_PER_THREAD = 4  # tasks queued per worker thread: enough to never idle, bounded memory
TASK_SECONDS = 0.2  # grading per task, when files are light: Dask costs ~10 ms per task
MAX_FILES_PER_TASK = 16
# The levels whose boxes learner code cannot leave: no network (so no Dask; the seccomp
# filter where there is no network namespace) and no file of the worker's (so no grader
# code to patch: a chroot). `plain` and `portable` share the worker's files; `portable`
# also its network (docs/security.md).
CONTAINED = frozenset({"full", "no-namespaces"})
# What this client accepts from the cluster: msgpack data only. Dask's default list
# includes pickle, and a result is unpickled where it arrives (on the TA's machine).
DATA_ONLY = ("msgpack",)
# Said once per uncontained worker graded on (the local batch's warning, per worker).
UNCONTAINED_NOTE = ("note: {level} isolation on Dask worker {worker} ({host}): hostile code "
                    "is not contained there (it could read or change files, other students' "
                    "included, and reach the scheduler, the other workers and this machine "
                    "through Dask); graded there because of --allow-uncontained")


class WorkerUnfit(Exception):
    """This worker cannot grade for this batch (another grade version, no sandbox)."""


class WorkerReport(Model):
    """What a worker says of itself before grading: its isolation, or why it cannot grade."""

    info: WorkerInfo | None = None
    problem: str | None = None


def contained(info: WorkerInfo) -> bool:
    """Whether learner code graded on this worker stays in its box (see CONTAINED).

    `no-namespaces` as root still chroots each box to an empty root as its own uid;
    not as root, only Landlock (which the report does not carry) would keep the
    worker's files: refused, the TA may allow it."""
    return info.level in CONTAINED and not {"chroot", "seccomp"} & set(info.missing)


def refusal(info: WorkerInfo) -> str:
    return (f"Dask worker {info.worker} ({info.host}) grades at the {info.level} isolation "
            "level, which cannot contain learner code: one submission could change other "
            "students' grades and run code on this machine through Dask. Start it where the "
            "Linux sandbox runs (level full, or no-namespaces as root), or pass "
            "--allow-uncontained if you trust every submission")


def course_files(course: Course) -> dict[str, bytes]:
    """What a worker needs of the course: the checks files and the helper modules they
    import, by path from the course root (what the results' fingerprints cover)."""
    files: dict[str, bytes] = {}
    for exercise in course.exercises:
        relative = PurePosixPath(exercise.checks)
        checks = course.checks_path(exercise)
        if not checks.is_file():
            continue  # an exercise still being written: it cannot be graded anywhere
        if relative.is_absolute() or ".." in relative.parts:
            raise WorkerError(f"the checks of {exercise.id} ({exercise.checks}) are outside the "
                              "course folder, so they cannot be sent to the Dask workers")
        files[str(relative)] = checks.read_bytes()
        for name, path in local_modules(checks).items():
            files[str(relative.parent / f"{name}.py")] = path.read_bytes()
    return files


class GraderPlugin(WorkerPlugin):
    """One warm grader per worker: the course unpacked, checks imported, a zygote started."""

    idempotent = True  # a worker that already has this course keeps its warm grader

    def __init__(self, course: Course, allow_uncontained: bool = False) -> None:
        self.course_json = course.model_dump_json()
        self.files = course_files(course)
        self.version = __version__
        self.allow_uncontained = allow_uncontained
        digest = hashlib.sha256(
            f"{self.version}\0{allow_uncontained}\0{self.course_json}".encode())
        for name, data in sorted(self.files.items()):
            digest.update(f"\0{name}\0".encode() + data)
        self.name = f"grade-{digest.hexdigest()[:16]}"

    def setup(self, worker: Any) -> None:
        """Never raises (a worker whose plugin fails could not even start): a worker that
        cannot grade says why to each task it is given."""
        self.problem: str | None = None
        self.info: WorkerInfo | None = None
        self.folder = tempfile.mkdtemp(prefix="grade-course-")
        # The strongest sandbox this worker's machine allows (the Linux one, else the
        # portable box); which one each worker had is in the journal and the report.
        self.sandbox = make_sandbox()
        if self.version != __version__:
            self.problem = (f"Dask worker {worker.address} has grade {__version__}, this batch "
                            f"needs {self.version}: install the same grade on every worker")
            return
        try:
            for name, data in self.files.items():
                path = Path(self.folder, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            course = Course.model_validate_json(self.course_json).located(Path(self.folder))
            self.sandbox.start()
            self.info = worker_info(self.sandbox, worker.address)
            if not (contained(self.info) or self.allow_uncontained):
                self.problem = refusal(self.info)  # no learner code ever runs here
                return
            sent = [e for e in course.exercises if e.checks in self.files]
            self.grader = warm_grader(course, self.sandbox, sent)
        except SandboxError as exc:
            self.problem = f"Dask worker {worker.address} could not start its sandbox: {exc}"
        except Exception as exc:
            self.problem = (f"Dask worker {worker.address} could not load the course's checks "
                            f"({type(exc).__name__}: {exc})")

    def teardown(self, worker: Any) -> None:
        self.sandbox.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def grade(self, exercise_id: str, filename: str, data: bytes, size: int) -> tuple[str, str]:
        if self.problem or self.info is None:
            raise WorkerUnfit(self.problem or "no sandbox")
        exercise = self.grader.course.exercise(exercise_id)
        assert exercise is not None
        started = time.monotonic()
        max_kb = self.grader.course.limits_for(exercise).max_source_kb
        try:  # only a file's first bytes travel when it is too large: refused by its size
            source = source_from_bytes(filename, data, max_kb, size)
        except SubmissionError as exc:
            result = self.grader.catalogue.failed(exercise, Failure.refused(exc), started)
        else:
            result = grade_safely(self.grader, exercise, source, started)
        return result.model_dump_json(), self.info.model_dump_json()

    def report(self) -> str:
        return WorkerReport(info=self.info, problem=self.problem).model_dump_json()


def worker_report(plugin: str, dask_worker: Any) -> str:
    """Run on each worker before grading (`Client.run`): its `WorkerReport`, as JSON."""
    grader = dask_worker.plugins.get(plugin)
    if not isinstance(grader, GraderPlugin):
        return WorkerReport(problem=f"Dask worker {dask_worker.address} has no grader for "
                                    "this course").model_dump_json()
    return grader.report()


File = tuple[str, str, bytes, int]  # (exercise id, file name, its first bytes, its size)


def grade_files(plugin: str, files: list[File]) -> list[tuple[str, str]]:
    """The task: grade a few files on this worker's warm grader; (result, worker) each."""
    worker = get_worker()
    grader = worker.plugins.get(plugin)
    if not isinstance(grader, GraderPlugin):
        raise WorkerUnfit(f"Dask worker {worker.address} has no grader for this course")
    return [grader.grade(*file) for file in files]


class DaskPool:
    """The workers of the Dask cluster at `address`, as a batch executor."""

    def __init__(self, address: str, reference: Grader, allow_uncontained: bool = False,
                 on_workers: Callable[[list[WorkerInfo]], None] | None = None) -> None:
        self.address = address
        self.allow_uncontained = allow_uncontained
        self.on_workers = on_workers  # shown the workers' isolation before grading starts
        self.course = reference.course
        self.reference = reference  # grades here the files that cannot be sent
        self.client: Client | None = None
        self.plugin = ""
        self.threads = 1
        self._workers = 0
        self._levels: dict[str, int] = {}

    @property
    def workers(self) -> int:
        return self._workers

    def __enter__(self) -> DaskPool:
        wait = float(os.environ.get(WAIT_VARIABLE, "60"))
        # Dask logs a lost connection with tracebacks, on the TA's stderr: the TA reads one
        # sentence from grade instead (`_lost`), and the journal keeps what was graded.
        self._levels = {name: logging.getLogger(name).level for name in DASK_LOGS}
        for name in DASK_LOGS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        try:
            self._connect(wait)
        except BaseException:
            self._restore_logs()
            raise
        return self

    def _restore_logs(self) -> None:
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def _connect(self, wait: float) -> None:
        try:
            self.client = Client(self.address, timeout=wait, set_as_default=False,
                                 deserializers=DATA_ONLY)
        except (OSError, TimeoutError, ValueError) as exc:
            raise WorkerError(f"cannot reach the Dask scheduler at {self.address} ({exc}); "
                              "is `dask scheduler` running there?") from None
        try:
            self.client.wait_for_workers(1, timeout=wait)
        except TimeoutError:
            self.client.close()
            raise WorkerError(f"no Dask worker joined the scheduler at {self.address} within "
                              f"{wait:g} s; start some: dask worker {self.address} --nthreads 1"
                              ) from None
        plugin = GraderPlugin(self.course, self.allow_uncontained)
        self.client.register_plugin(plugin, name=plugin.name)
        self.plugin = plugin.name
        self._check_workers()
        self._count()

    def _check_workers(self) -> None:
        """Every worker's isolation, shown before any file is sent; refuse the batch when
        one cannot contain learner code and the TA did not allow it."""
        assert self.client is not None
        try:
            reports = [WorkerReport.model_validate_json(text) for text in
                       self.client.run(worker_report, self.plugin).values()]
        except (ValidationError, TypeError) as exc:  # not data: not a worker of ours
            raise WorkerError(f"a Dask worker did not say what isolation it has ({exc})"
                              ) from None
        infos = sorted((r.info for r in reports if r.info is not None), key=lambda i: i.worker)
        if self.on_workers is not None:
            self.on_workers(infos)
        refused = [i for i in infos if not (contained(i) or self.allow_uncontained)]
        if refused:
            raise WorkerError("; ".join(refusal(i) for i in refused))

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.client is not None:
            self.client.close()
        self._restore_logs()

    def _count(self) -> None:
        assert self.client is not None
        threads = self.client.nthreads()
        self._workers, self.threads = len(threads), max(1, sum(threads.values()))

    def _payload(self, exercise: Exercise, path: Path) -> tuple[bytes, int] | None:
        """(the bytes the grader may read, the file's size), or None when it cannot be read
        here: the reference grader then refuses it without running anything."""
        limit = self.course.limits_for(exercise).max_source_kb * 1024
        try:
            with path.open("rb") as f:
                return f.read(limit + 1), os.fstat(f.fileno()).st_size
        except OSError:
            return None

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        """Grade every (key, exercise, path) on the cluster, a bounded number of tasks in
        flight; yield (key, result, worker) as each task completes."""
        assert self.client is not None
        run = uuid.uuid4().hex[:12]
        items = list(work)
        flying: dict[Any, list[tuple[K, Exercise]]] = {}
        completed = as_completed(loop=self.client.loop)
        position, tasks, graded, busy = 0, 0, 0, 0.0
        counted = time.monotonic()
        while True:
            while position < len(items) and len(flying) < IN_FLIGHT_PER_THREAD * self.threads:
                size = _chunk(graded, busy, len(items) - position, self.threads)
                files: list[File] = []
                keys: list[tuple[K, Exercise]] = []
                for key, exercise, path in items[position:position + size]:
                    payload = self._payload(exercise, path)
                    if payload is None:
                        yield key, self.reference.grade(exercise, path), None
                        continue
                    files.append((exercise.id, path.name, *payload))
                    keys.append((key, exercise))
                position += size
                if files:
                    tasks += 1
                    future = self.client.submit(grade_files, self.plugin, files,
                                                key=f"grade-{run}-{tasks}", pure=False)
                    flying[future.key] = keys
                    completed.add(future)
            if not flying:
                return
            future = next(completed)
            if future.status in ("lost", "pending"):
                # Its result died with the worker that held it, before we fetched it:
                # the scheduler computes it again, and we wait for that.
                completed.add(future)
                continue
            keys = flying.pop(future.key)
            for (key, _), (result, worker) in zip(keys, self._outcome(future, keys), strict=True):
                graded += 1
                busy += result.seconds
                yield key, result, worker
            if time.monotonic() - counted > 2:  # workers come and go: keep them all busy
                counted = time.monotonic()
                try:
                    self._count()
                except (OSError, TimeoutError):  # asks the scheduler, which may be gone
                    raise self._lost() from None

    def _outcome(self, future: Future[Any], keys: list[tuple[K, Exercise]]
                 ) -> list[tuple[ExerciseResult, WorkerInfo | None]]:
        if future.status == "finished":
            try:
                return _results(future.result(), len(keys))
            except OSError:  # CommClosedError: the scheduler went as the results came back
                raise self._lost() from None
            except Exception as exc:  # not data (a pickle refused, a forged shape)
                failure = Failure("the grader failed on this file (its Dask worker answered "
                                  f"with something other than a result: {type(exc).__name__})"
                                  "; nothing was counted: it is graded again on the next run",
                                  ErrorKind.GRADER_FAULT)
                return [(self.reference.catalogue.failed(exercise, failure, time.monotonic()),
                         None) for _, exercise in keys]
        if future.status == "error":
            error = future.exception()
            if isinstance(error, WorkerUnfit):
                raise WorkerError(str(error))
            # The scheduler gave up on these files (e.g. every worker that took them
            # died): a grader fault, so the next run grades them again.
            why = ("the Dask workers grading it died" if isinstance(error, KilledWorker)
                   else f"{type(error).__name__}: {error}")
            failure = Failure(f"the grader failed on this file ({why}); nothing was counted: "
                              "it is graded again on the next run", ErrorKind.GRADER_FAULT)
            return [(self.reference.catalogue.failed(exercise, failure, time.monotonic()), None)
                    for _, exercise in keys]
        raise self._lost()  # cancelled: the client gave up reconnecting to the scheduler

    def _lost(self) -> WorkerError:
        return WorkerError(f"lost the Dask scheduler at {self.address} (it stopped "
                           "answering); what was graded is kept: run the same command again, "
                           "with a scheduler running, to grade the rest")


def _results(graded: object, files: int) -> list[tuple[ExerciseResult, WorkerInfo | None]]:
    """A task's answer, read as data: one (result JSON, worker JSON) pair per file sent."""
    if not isinstance(graded, (list, tuple)) or len(graded) != files:
        raise TypeError(f"expected {files} results, got {type(graded).__name__}")
    pairs: list[tuple[ExerciseResult, WorkerInfo | None]] = []
    for pair in graded:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and all(isinstance(text, str) for text in pair)):
            raise TypeError("a result that is not JSON text")
        pairs.append((ExerciseResult.model_validate_json(pair[0]),
                      WorkerInfo.model_validate_json(pair[1])))
    return pairs


def _chunk(graded: int, busy: float, left: int, threads: int) -> int:
    """How many files the next task carries: about TASK_SECONDS of grading, so that
    Dask's own cost per task (milliseconds) is small next to it, but never so many
    that the last tasks leave workers idle; one file per task until timings are known."""
    if not graded or busy <= 0:
        return 1
    size = int(TASK_SECONDS * graded / busy)
    return max(1, min(size, MAX_FILES_PER_TASK, left // (2 * threads)))


def dask_pool(address: str, allow_uncontained: bool = False,
              on_workers: Callable[[list[WorkerInfo]], None] | None = None) -> ExecutorFactory:
    """The executor factory for `grade batch --dask ADDRESS [--allow-uncontained]`."""
    return lambda reference, files: DaskPool(address, reference, allow_uncontained, on_workers)
