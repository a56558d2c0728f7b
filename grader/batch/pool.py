"""Warm workers: N processes, each with its own sandbox (zygote) and imported checks.

Starting Python, importing the checks and starting a zygote are paid once per
worker; a submission then costs one box fork plus its checks. Processes, not
threads: the trusted side decodes JSON and computes statistics, which is CPU work.

`grade batch` forks its workers (`EarlyPool`) before it reads the class: each takes a
zygote launched as the command started (batch/early.py's `Claims`; or starts its own)
and imports the checks while the batch process reads the class.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from grader.sandbox.client import SandboxError
from grader.sandbox.levels import linux_sandbox_runs, make_sandbox, portable_here

if TYPE_CHECKING:
    from multiprocessing.synchronize import Lock

    from grader.batch.early import Claims
    from grader.batch.executor import Executor
    from grader.course import Course, Exercise
    from grader.results import ExerciseResult, WorkerInfo
    from grader.runner import Grader

K = TypeVar("K")
PR_SET_PDEATHSIG = 1
LOCAL_WORKER = "local process"  # how a local worker's name begins (WorkerInfo.worker)

DIED = "a grading worker process died; run the same command again to grade what is left"

_worker: dict[str, Any] = {}  # this worker process's grader, or why it has none

def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL us when the batch process dies, even by SIGKILL.

    Our zygote then sees its control socket close and exits, taking its boxes
    (its PID namespace) with it: a killed batch leaves nothing running.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):  # Linux only
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _start(course: Course, parent: int, portable: bool, claims: Claims | None = None) -> None:
    # Ctrl-C is the batch process's business; a worker (and its zygote, which
    # inherits SIG_IGN) finishes the submission in hand instead of dying mid-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the batch's "stop as on Ctrl-C"
    _die_with_parent(parent)
    # a zygote launched as the command started (batch/early.py), already booted
    sandbox = (claims.claim() if claims else None) or make_sandbox(portable)
    try:
        sandbox.start()
    except SandboxError as exc:
        _worker["error"] = f"a grading worker could not start its sandbox: {exc}"
        return
    Finalize(sandbox, sandbox.close, exitpriority=10)
    from grader.batch.executor import warm_grader, worker_info

    _worker["grader"] = warm_grader(course, sandbox, course.exercises)
    _worker["info"] = worker_info(sandbox, f"{LOCAL_WORKER} {os.getpid()}").model_dump_json()


def _ready() -> None:
    """A task that does nothing: submitted once per worker, it makes the pool fork them."""


def _grade(exercise_id: str, path: str) -> tuple[str, str]:
    from grader.batch.executor import WorkerError, grade_safely

    if "error" in _worker:
        raise WorkerError(_worker["error"])
    grader: Grader = _worker["grader"]
    exercise = grader.course.exercise(exercise_id)
    assert exercise is not None
    return grade_safely(grader, exercise, Path(path)).model_dump_json(), _worker["info"]


class WorkerPool:
    """`jobs` warm worker processes (fork start method: they inherit loaded modules)."""

    def __init__(self, course: Course, jobs: int, method: str | None = None,
                 claims: Claims | None = None) -> None:
        self.course = course
        self.jobs = jobs
        self.claims = claims  # zygotes launched for the workers to take (fork only)
        self.method = method  # multiprocessing's start method; None: the platform's best
        self._executor: ProcessPoolExecutor | None = None
        # Whether leaving waits for the workers to end. A pool forked inside a batch
        # must: its workers hold the journal's lock (inherited) until they exit.
        self.wait = True

    def __enter__(self) -> WorkerPool:
        if self._executor is not None:  # started early (EarlyPool)
            return self
        # fork where the Linux sandbox runs (workers inherit loaded modules); spawn
        # elsewhere (Windows has no fork; macOS's is unsafe with system frameworks).
        method = self.method or ("fork" if linux_sandbox_runs() else "spawn")
        self._executor = ProcessPoolExecutor(
            self.jobs, mp_context=multiprocessing.get_context(method),
            initializer=_start,
            initargs=(self.course, os.getpid(), portable_here(),
                      self.claims if method == "fork" else None))
        return self

    def launch(self) -> None:
        """Start every worker now (the executor would at the first file), in the
        background: each imports the grader and boots its zygote while we go on."""
        self._fork()
        if self.claims is not None:  # forked now (the first submit forks them all)
            self.claims.forked()

    def _fork(self) -> None:
        assert self._executor is not None
        for _ in range(self.jobs):
            self._executor.submit(_ready)

    def __exit__(self, exc_type: object, *rest: object) -> None:
        assert self._executor is not None
        if exc_type is not None:
            # Interrupted (Ctrl-C, SIGTERM, a full disk): do not wait for submissions in
            # hand. Kill the workers now: at exit the executor would join them, up to a
            # whole time limit. Their zygotes and boxes die with them (control socket
            # closed, PDEATHSIG). `_processes` is the executor's own table of workers.
            for process in list((self._executor._processes or {}).values()):
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        # Killed, the workers end at once; waiting for the executor's thread to see them
        # go leaves it nothing to do at exit, where CPython 3.11's exit hook writes to
        # the thread's wakeup pipe without a lock and races it closing that pipe (EBADF,
        # a traceback after a batch's clean error message).
        self._executor.shutdown(wait=exc_type is not None or self.wait, cancel_futures=True)

    @property
    def workers(self) -> int:
        return self.jobs

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        """Grade every (key, exercise, path); yield (key, result, worker) as each finishes."""
        from grader.batch.executor import WorkerError
        from grader.results import ExerciseResult, WorkerInfo

        assert self._executor is not None
        futures: dict[Future[tuple[str, str]], K] = {
            self._executor.submit(_grade, exercise.id, str(path)): key
            for key, exercise, path in work}
        workers: dict[str, WorkerInfo] = {}  # one per worker, not one per result
        for future in as_completed(futures):
            try:
                text, info = future.result()
            except BrokenProcessPool:
                raise WorkerError(DIED) from None
            # Dropped as it is yielded: a class of 3000 files does not keep every
            # result's JSON text alive until the last one is graded.
            key = futures.pop(future)
            if info not in workers:
                workers[info] = WorkerInfo.model_validate_json(info)
            yield key, ExerciseResult.model_validate_json(text), workers[info]


def _serve(tasks: Connection, lock: Lock, results: Connection, course: Course, parent: int,
           claims: Claims | None) -> None:
    """A `PipePool` worker: start as the executor's do (`_start`), then grade the
    (number, exercise id, path) it takes from `tasks` until it takes None. Each
    answer on `results`: (number, (result JSON, worker info)), or (number, the
    exception it raised)."""
    _start(course, parent, portable_here(), claims)
    while True:
        with lock:  # one pipe, every worker's: whoever is free takes the next file
            task = tasks.recv()
        if task is None:
            return
        number, exercise_id, path = task
        try:
            answer: object = _grade(exercise_id, path)
        except Exception as exc:  # a WorkerError (no sandbox), or a grader bug
            answer = exc
        try:
            results.send((number, answer))
        except OSError:  # the batch reads no more (it stopped early): nothing to answer
            return
        except Exception as exc:  # an exception that does not pickle: said as text
            results.send((number, RuntimeError(f"{type(exc).__name__}: {exc}")))


class PipePool(WorkerPool):
    """The batch's local pool where workers fork: `jobs` processes that take files from
    one pipe and answer each on a pipe of its own, fed and read by the batch's own
    thread. ProcessPoolExecutor's two threads (a manager and a queue feeder: a wakeup,
    a pickle and a handover between threads per file) cost ~17 ms of the batch
    process's CPU per class of 40, while both cores grade. A worker that dies is
    seen at once (its sentinel), as the executor's BrokenProcessPool was."""

    AHEAD = 4  # files handed over per worker before its first answer: a batch process
    # busy for a while (the exports' imports at the first result) leaves no worker idle,
    # and what is in the pipe (<= 4 KiB a file) never fills it (64 KiB): no send blocks

    def __init__(self, course: Course, jobs: int, claims: Claims | None = None) -> None:
        super().__init__(course, jobs, "fork", claims)
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._answers: list[Connection] = []
        self._tasks: Connection | None = None
        self._unanswered: dict[int, Any] = {}  # handed over, not answered yet

    def __enter__(self) -> PipePool:
        return self

    def _fork(self) -> None:
        if self._processes:
            return
        context = multiprocessing.get_context("fork")
        take, self._tasks = context.Pipe(duplex=False)
        lock = context.Lock()
        for _ in range(self.jobs):
            answers, answer = context.Pipe(duplex=False)
            process = context.Process(target=_serve, name="grade worker", args=(
                take, lock, answer, self.course, os.getpid(), self.claims))
            process.start()
            answer.close()  # the worker's end: ours would keep its pipe open past its death
            self._processes.append(process)
            self._answers.append(answers)
        take.close()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        # Left on an error, or before every answer was read (their results are not
        # wanted, and a worker blocked on a full pipe would never take its stop): kill
        # the workers now and wait for them to end, as WorkerPool's exit does.
        kill = exc_type is not None or bool(self._unanswered)
        if kill:
            for process in self._processes:
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        elif self._tasks is not None:
            for _ in self._processes:  # each takes one None and ends
                with contextlib.suppress(OSError):
                    self._tasks.send(None)
        if kill or self.wait:
            for process in self._processes:
                process.join()
        for end in (*self._answers, *([self._tasks] if self._tasks else [])):
            end.close()
        self._answers, self._tasks, self._unanswered = [], None, {}

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        """Grade every (key, exercise, path); yield (key, result, worker) as each finishes."""
        from multiprocessing.connection import wait

        from grader.batch.executor import WorkerError
        from grader.results import ExerciseResult, WorkerInfo

        self._fork()
        assert self._tasks is not None
        pending = iter(work)
        keys: dict[int, K] = {}
        self._unanswered = keys
        workers: dict[str, WorkerInfo] = {}  # one per worker, not one per result
        number = 0
        sentinels = {process.sentinel for process in self._processes}
        while True:
            while len(keys) < self.AHEAD * self.jobs:
                item = next(pending, None)
                if item is None:
                    break
                key, exercise, path = item
                number += 1
                keys[number] = key
                self._tasks.send((number, exercise.id, str(path)))
            if not keys:
                return
            ready = wait([*self._answers, *sentinels])
            if sentinels.intersection(ready):
                raise WorkerError(DIED)
            for answers in ready:
                assert isinstance(answers, Connection)
                try:
                    done, answer = answers.recv()
                except (EOFError, OSError):  # its worker died as it answered: its pipe
                    raise WorkerError(DIED) from None  # closed before its sentinel did
                if isinstance(answer, BaseException):
                    raise answer
                text, info = answer
                if info not in workers:
                    workers[info] = WorkerInfo.model_validate_json(info)
                yield keys.pop(done), ExerciseResult.model_validate_json(text), workers[info]


def local_workers(course: Course, jobs: int, claims: Claims | None = None) -> WorkerPool:
    """This machine's pool for a batch: a `PipePool` where the Linux sandbox runs
    (workers fork), else the executor's (spawned workers: Windows, macOS)."""
    if linux_sandbox_runs():
        return PipePool(course, jobs, claims)
    return WorkerPool(course, jobs, claims=claims)


class EarlyPool:
    """The local pool, its workers forked before the class is read: an ExecutorFactory
    whose first use is that pool (no more workers than `jobs`, started at once)."""

    def __init__(self, course: Course, jobs: int, claims: Claims | None = None) -> None:
        self._jobs = jobs
        self._pool: WorkerPool | None = local_workers(course, jobs, claims).__enter__()
        # Forked before the journal is opened, its workers hold no lock: the batch
        # need not wait for them to close their zygotes (which removes their boxes'
        # folders) before writing its exports; `early.settle` (or multiprocessing's
        # exit hook, or the executor's) joins them before this process ends.
        self._pool.wait = False
        self._pool.launch()

    def __call__(self, reference: Grader, files: int) -> Executor:
        pool, self._pool = self._pool, None
        if pool is None:  # a second use: a pool of its own, as `run.local_pool` makes
            return local_workers(reference.course, min(self._jobs, files))
        return pool

    def close(self) -> None:
        """Stop the workers if the batch never used them (nothing to grade, an error)."""
        if self._pool is not None:
            self._pool.__exit__(None)
            self._pool = None
