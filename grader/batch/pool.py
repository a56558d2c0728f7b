"""Warm workers: N processes, each with its own sandbox (zygote) and imported checks.

Starting Python, importing the checks and starting a zygote are paid once per
worker; a submission then costs one box fork plus its checks. Processes, not
threads: the trusted side decodes JSON and computes statistics, which is CPU work.

`grade batch` forks its workers (`EarlyPool`) before it reads the class: each takes a
zygote launched as the command started (batch/early.py; `Claims`) or starts its own,
and imports the checks while the batch process reads the class.

Workers grade from the course's plans (course/plan.py), into plain records
(runner/verdicts.py): they never import pydantic, so `batch/early.py` can fork them as
the command starts and hand them the first files before the batch process has loaded
its models; the batch process makes each result its model (`modelled`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from grader.course.plan import Planned
from grader.sandbox.client import SandboxBackend, SandboxError
from grader.sandbox.levels import linux_sandbox_runs, make_sandbox, portable_here

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.synchronize import Lock

    from grader.course import Course, Exercise
    from grader.results import ExerciseResult, WorkerInfo
    from grader.runner import Grader
    from grader.runner.grade import Sheet
    from grader.runner.verdicts import Graded
    from grader.sandbox.client import Sandbox

Plans = dict[str, Planned]  # exercise id -> its plan: what a worker grades it by

K = TypeVar("K")
PR_SET_PDEATHSIG = 1
LOCAL_WORKER = "local process"  # how a local worker's name begins (WorkerInfo.worker)

DIED = "a grading worker process died; run the same command again to grade what is left"

_worker: dict[str, Any] = {}  # this worker process's sheets and sandbox, or why it has none


class WorkerError(Exception):
    """The workers could not grade at all (no sandbox, a dead pool, a lost cluster)."""


def course_plans(course: Course) -> Plans:
    """What the workers grade `course`'s exercises by."""
    return {exercise.id: Planned.of(course, exercise) for exercise in course.exercises}


def worker_fields(sandbox: SandboxBackend, name: str) -> dict[str, Any]:
    """What isolation `sandbox` (started) gives its boxes, as the report shows it: the
    fields of results.WorkerInfo."""
    missing = sandbox.weakened
    asked = str(sandbox.isolation.get("level", "full"))
    # `full` falls back to running without namespaces when unshare is refused.
    level = "no-namespaces" if asked == "full" and missing else asked
    return {"worker": name, "host": socket.gethostname(), "level": level, "missing": missing}

def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL us when the batch process dies, even by SIGKILL.

    Our zygote then sees its control socket close and exits, taking its boxes
    (its PID namespace) with it: a killed batch leaves nothing running.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):  # Linux only
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _start(plans: Plans, parent: int, portable: bool, claims: Claims | None = None) -> None:
    # Ctrl-C is the batch process's business; a worker (and its zygote, which
    # inherits SIG_IGN) finishes the submission in hand instead of dying mid-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held while it forked
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the batch's "stop as on Ctrl-C"
    _die_with_parent(parent)
    if not gc.isenabled():  # forked as the command started, its collector off (early.py)
        gc.freeze()
        gc.enable()
    # a zygote launched as the command started (batch/early.py), already booted
    sandbox = (claims.claim() if claims else None) or make_sandbox(portable)
    try:
        sandbox.start()
    except SandboxError as exc:
        _worker["error"] = f"a grading worker could not start its sandbox: {exc}"
        return
    Finalize(sandbox, sandbox.close, exitpriority=10)
    from grader.runner.grade import ChecksError, Sheet, checks_of

    # Every exercise's checks imported now: no file pays for an import. Broken checks
    # are said by the batch process, which imports them too, before any file is graded.
    try:
        _worker["sheets"] = {i: Sheet(i, checks_of(i, p.checks_file), p.withheld)
                             for i, p in plans.items()}
    except ChecksError as exc:
        _worker["error"] = str(exc)
        return
    _worker["plans"], _worker["boxes"] = plans, sandbox
    _worker["info"] = worker_fields(sandbox, f"{LOCAL_WORKER} {os.getpid()}")


def _ready() -> None:
    """A task that does nothing: submitted once per worker, it makes the pool fork them."""


Answer = tuple["Graded", dict[str, Any], str | None]  # a result, its worker, and a hash


def _grade(exercise_id: str, path: str, guessed: bool = False) -> Answer:
    """Grade one file; a grader bug costs that file (a grader fault, graded again later).
    A guessed file's answer holds the hash of the file as it was read (`PipePool`)."""
    from grader.batch.filehash import submission_digest
    from grader.runner.grade import grade_path
    from grader.runner.pipeline import Failure

    if "error" in _worker:
        raise WorkerError(_worker["error"])
    plan: Planned = _worker["plans"][exercise_id]
    sheet: Sheet = _worker["sheets"][exercise_id]
    started = time.monotonic()
    try:  # hashed before it is read: a file that changes in between is graded again
        digest = submission_digest(Path(path), plan.max_source_kb * 1024) if guessed else None
    except OSError:
        digest = ""
    try:
        graded = grade_path(_worker["boxes"], sheet, Path(path), plan.limits,
                            plan.max_source_kb, started)
    except Exception as exc:
        graded = sheet.failed(Failure.fault(exc), started)
    return graded, _worker["info"], digest


def _result(answer: Answer, workers: dict[str, WorkerInfo]) -> tuple[ExerciseResult, WorkerInfo]:
    """A worker's answer as the batch keeps it: the result's model, and its worker's
    (made once per worker, not once per result)."""
    from grader.results import WorkerInfo
    from grader.runner.verdicts import modelled

    graded, info, _ = answer
    if info["worker"] not in workers:
        workers[info["worker"]] = WorkerInfo(**info)
    return modelled(graded), workers[info["worker"]]


class Claims:
    """Which launched zygote each forked worker takes: one byte each in a pipe, written
    before the fork; a worker reads one (a read of one byte is atomic)."""

    def __init__(self, sandboxes: list[Sandbox]) -> None:
        self.sandboxes = sandboxes
        self._read, self._write = os.pipe() if sandboxes else (-1, -1)
        if sandboxes:
            os.write(self._write, bytes(range(len(sandboxes))))
            os.close(self._write)

    def claim(self) -> Sandbox | None:
        """In a forked worker: its zygote (not started: `start` greets it); every other
        zygote's control socket closed. None when there is none left."""
        if not self.sandboxes:
            return None
        try:
            taken = os.read(self._read, 1)
        finally:
            os.close(self._read)
        mine = self.sandboxes[taken[0]] if taken else None
        for sandbox in self.sandboxes:
            if sandbox is not mine:
                sandbox.drop_launched()
        return mine

    def forked(self) -> None:
        """In the batch process, once the workers are forked: only they hold the zygotes."""
        if self.sandboxes:
            os.close(self._read)
            self.release()

    def release(self) -> None:
        """Close this process's ends of the zygotes' control sockets (a zygote ends with
        its last one): done once forked, or when the pool ends before (interrupted)."""
        for sandbox in self.sandboxes:
            sandbox.drop_launched()


class WorkerPool:
    """`jobs` warm worker processes (fork start method: they inherit loaded modules)."""

    def __init__(self, plans: Plans, jobs: int, method: str | None = None,
                 claims: Claims | None = None) -> None:
        self.plans = plans
        self.jobs = jobs
        self.claims = claims  # zygotes launched for the workers to take (fork only)
        self.method = method  # multiprocessing's start method; None: the platform's best
        self._executor: ProcessPoolExecutor | None = None
        # Whether leaving waits for the workers to end. A pool forked inside a batch
        # must: its workers hold the journal's lock (inherited) until they exit.
        self.wait = True
        self.launched = False

    @classmethod
    def for_course(cls, course: Course, jobs: int) -> WorkerPool:
        """The pool of `jobs` workers that grade `course` (`grade check --mutants`'s)."""
        return cls(course_plans(course), jobs)

    def __enter__(self) -> WorkerPool:
        if self._executor is not None:  # started early (EarlyPool)
            return self
        # here: PipePool, the batch's, needs neither the executor nor its logging
        from concurrent.futures import ProcessPoolExecutor

        # fork where the Linux sandbox runs (workers inherit loaded modules); spawn
        # elsewhere (Windows has no fork; macOS's is unsafe with system frameworks).
        method = self.method or ("fork" if linux_sandbox_runs() else "spawn")
        self._executor = ProcessPoolExecutor(
            self.jobs, mp_context=multiprocessing.get_context(method),
            initializer=_start,
            initargs=(self.plans, os.getpid(), portable_here(),
                      self.claims if method == "fork" else None))
        return self

    def launch(self) -> None:
        """Start every worker now (the executor would at the first file), in the
        background: each imports the grader and boots its zygote while we go on."""
        if self.launched:
            return
        self.launched = True
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
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        assert self._executor is not None
        futures: dict[Future[Answer], K] = {
            self._executor.submit(_grade, exercise.id, str(path)): key
            for key, exercise, path in work}
        workers: dict[str, WorkerInfo] = {}  # one per worker, not one per result
        for future in as_completed(futures):
            try:
                answer = future.result()
            except BrokenProcessPool:
                raise WorkerError(DIED) from None
            # Dropped as it is yielded: a class of 3000 files does not keep every
            # result alive until the last one is graded.
            key = futures.pop(future)
            yield key, *_result(answer, workers)


def _serve(tasks: Connection, lock: Lock, results: Connection, plans: Plans, parent: int,
           claims: Claims | None) -> None:
    """A `PipePool` worker: start as the executor's do (`_start`), then grade the
    (number, exercise id, path, guessed) it takes from `tasks` until it takes None.
    Each answer on `results`: (number, `Answer`), or (number, the exception it raised)."""
    _start(plans, parent, portable_here(), claims)
    while True:
        with lock:  # one pipe, every worker's: whoever is free takes the next file
            task = tasks.recv()
        if task is None:
            return
        number, exercise_id, path, guessed = task
        try:
            answer: object = _grade(exercise_id, path, guessed)
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
    seen at once (its sentinel), as the executor's BrokenProcessPool was.

    Files can be handed over before the batch asks for them (`guess`, as the command
    starts): one it then asks for is not sent again, and an answer nobody asks for is
    dropped (a worker still grading one is killed as the pool is left). A guessed file
    was read before the batch hashed it to plan its grading: its answer counts only if
    the file still hashes as its worker read it, else it is graded again (a late
    upload as the batch starts is never stored under the new file's hash)."""

    AHEAD = 4  # files handed over per worker before its first answer: a batch process
    # busy for a while (the exports' imports at the first result) leaves no worker idle,
    # and what is in the pipe (<= 4 KiB a file) never fills it (64 KiB): no send blocks

    def __init__(self, plans: Plans, jobs: int, claims: Claims | None = None) -> None:
        super().__init__(plans, jobs, "fork", claims)
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._answers: list[Connection] = []
        self._tasks: Connection | None = None
        self._sent = 0  # tasks numbered so far
        self._open: set[int] = set()  # handed over, not answered yet
        self._guessed: dict[tuple[str, str], int] = {}  # (exercise id, path) -> number
        self._early: dict[int, Any] = {}  # answers to guesses not asked for yet
        self._asked: dict[int, tuple[str, str]] = {}  # guesses asked for, not answered

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
            # daemonic: at an exit that never stopped them (Ctrl-C before the batch took
            # an early pool), multiprocessing's exit hook ends them instead of joining them
            process = context.Process(target=_serve, name="grade worker", daemon=True, args=(
                take, lock, answer, self.plans, os.getpid(), self.claims))
            self._processes.append(process)  # before it starts: a Ctrl-C as it forks
            self._answers.append(answers)  # still finds every worker to kill
            process.start()
            answer.close()  # the worker's end: ours would keep its pipe open past its death
        take.close()

    def _send(self, exercise_id: str, path: str, guessed: bool = False) -> int:
        assert self._tasks is not None
        self._sent += 1
        self._tasks.send((self._sent, exercise_id, path, guessed))
        self._open.add(self._sent)
        return self._sent

    def guess(self, files: Iterable[tuple[str, str]]) -> None:
        """Hand the (launched) workers these (exercise id, path) now, before the batch
        asks for them: the files it will most likely ask for first."""
        for exercise_id, path in files:
            self._guessed[exercise_id, path] = self._send(exercise_id, path, True)

    def _still(self, exercise_id: str, path: str, answer: Answer) -> bool:
        """Whether the guessed file `path` still hashes as its worker read it."""
        from grader.batch.filehash import submission_digest

        try:
            now = submission_digest(Path(path), self.plans[exercise_id].max_source_kb * 1024)
        except OSError:
            return False
        return answer[2] == now

    def __exit__(self, exc_type: object, *rest: object) -> None:
        # Left on an error, or before every answer was read (their results are not
        # wanted, and a worker blocked on a full pipe would never take its stop): kill
        # the workers now and wait for them to end, as WorkerPool's exit does.
        kill = exc_type is not None or bool(self._open)
        started = [process for process in self._processes if process.pid is not None]
        if kill:
            for process in started:
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        elif self._tasks is not None:
            for _ in started:  # each takes one None and ends
                with contextlib.suppress(OSError):
                    self._tasks.send(None)
        if self.claims is not None:  # interrupted as it forked: zygotes no worker claimed
            self.claims.release()
        if kill or self.wait:
            for process in started:
                process.join()
        for end in (*self._answers, *([self._tasks] if self._tasks else [])):
            end.close()
        self._answers, self._tasks, self._open = [], None, set()
        self._guessed, self._early, self._asked = {}, {}, {}

    def grade(self, work: Iterable[tuple[K, Exercise, Path]]
              ) -> Iterator[tuple[K, ExerciseResult, WorkerInfo | None]]:
        """Grade every (key, exercise, path); yield (key, result, worker) as each finishes."""
        from multiprocessing.connection import wait

        self._fork()
        pending = iter(work)
        keys: dict[int, K] = {}  # handed over and asked for, not answered yet
        workers: dict[str, WorkerInfo] = {}  # one per worker, not one per result
        held: tuple[K, Exercise, Path] | None = None  # asked for, not handed over yet
        sentinels = {process.sentinel for process in self._processes}
        while True:
            while True:  # take what is asked for while few files are handed over
                if held is None:
                    held = next(pending, None)
                    if held is None:
                        break
                    key, exercise, path = held
                    number = self._guessed.pop((exercise.id, str(path)), None)
                    if number is not None and number not in self._early:
                        keys[number], held = key, None  # handed over already: its answer
                        self._asked[number] = (exercise.id, str(path))  # is checked
                        continue
                    if number is not None:
                        answer = self._early.pop(number)
                        if self._still(exercise.id, str(path), answer):
                            held = None
                            yield key, *_result(answer, workers)
                            continue  # else: changed since it was read, graded again
                if len(self._open) >= self.AHEAD * self.jobs:
                    break
                key, exercise, path = held
                keys[self._send(exercise.id, str(path))] = key
                held = None
            if not keys and held is None:
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
                self._open.discard(done)
                if isinstance(answer, BaseException):
                    raise answer
                if done not in keys:  # a guess, asked for later (or never)
                    self._early[done] = answer
                    continue
                key = keys.pop(done)
                guessed = self._asked.pop(done, None)
                if guessed is not None and not self._still(*guessed, answer):
                    keys[self._send(*guessed)] = key  # changed since read: graded again
                    continue
                yield key, *_result(answer, workers)


def local_workers(plans: Plans, jobs: int, claims: Claims | None = None) -> WorkerPool:
    """This machine's pool for a batch: a `PipePool` where the Linux sandbox runs
    (workers fork), else the executor's (spawned workers: Windows, macOS)."""
    if linux_sandbox_runs():
        return PipePool(plans, jobs, claims)
    return WorkerPool(plans, jobs, claims=claims)


class EarlyPool:
    """The local pool, its workers forked before the class is read: an ExecutorFactory
    whose first use is that pool (no more workers than `jobs`, started at once)."""

    def __init__(self, pool: WorkerPool) -> None:
        self._jobs = pool.jobs
        self._pool: WorkerPool | None = pool.__enter__()
        # Forked before the journal is opened, its workers hold no lock: the batch
        # need not wait for them to close their zygotes (which removes their boxes'
        # folders) before writing its exports; `early.settle` (or multiprocessing's
        # exit hook, or the executor's) joins them before this process ends.
        self._pool.wait = False
        self._pool.launch()

    def __call__(self, reference: Grader, files: int) -> WorkerPool:
        pool, self._pool = self._pool, None
        if pool is None:  # a second use: a pool of its own, as `run.local_pool` makes
            return local_workers(course_plans(reference.course), min(self._jobs, files))
        return pool

    def close(self) -> None:
        """Stop the workers if the batch never used them (nothing to grade, an error)."""
        if self._pool is not None:
            self._pool.__exit__(None)
            self._pool = None
