"""The grading service: a dispatcher that leases jobs and carriers that grade them.

Each course gets one executor (the batch's warm worker processes, or a Dask cluster
through the batch's `DaskPool`), entered once for the server's life. One dispatcher
thread talks to the database: it stores the results that came back and leases as many
jobs as there are free carriers, each in one transaction, and sleeps until an upload or
a result arrives. Carriers (three per worker, so a worker never waits for its next
file) write a job's file under the course's own file name (never the learner's) and
hand it to the executor. A heartbeat thread renews the leases of the jobs in hand, and
restarts a lane whose workers have held a job past the hard limit (a hung worker).
"""

from __future__ import annotations

import contextlib
import queue as fifo
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import CancelledError
from datetime import timedelta
from pathlib import Path

from django.db import close_old_connections, transaction

from grader.batch.cluster import dask_pool
from grader.batch.executor import Executor, WorkerError
from grader.batch.fingerprint import exercises_digest
from grader.batch.pool import WorkerPool, course_plans
from grader.course import Course
from grader.course.load import load_course
from grader.kinds import ErrorKind
from grader.results import ExerciseResult
from grader.runner import Failure, Grader
from grader.sandbox.client import Sandbox
from grader.server import outage, queue, store, waiting
from grader.server.models import Submission

POLL = 0.5  # seconds between looks at the database when nothing woke the dispatcher
GATHER = 0.1  # at most this long a result waits for others to share its round's commit


class Lane:
    """One course's executor and what every result records about it."""

    def __init__(self, course: Course, jobs: int, dask: str | None) -> None:
        self.course = course
        self.jobs = jobs
        self.dask = dask
        self.digest = exercises_digest(course, course.exercises)
        self.reference = Grader(course, Sandbox())  # no sandbox runs: checks and scores only
        for exercise in course.exercises:
            self.reference.checks(exercise)
        self.lock = threading.Lock()
        self.executor = self._make()

    def _make(self, warm: bool = True, method: str | None = None) -> Executor:
        executor = (dask_pool(self.dask)(self.reference, self.jobs) if self.dask
                    else WorkerPool(course_plans(self.course), self.jobs, method))
        executor.__enter__()
        if warm and not self.dask:
            self._warm(executor)
        return executor

    def _warm(self, executor: Executor) -> None:
        """Grade one empty file now. The pool forks its workers at its first file: forked
        later, from a grading thread while other threads hold locks (a half-built
        pydantic model, the import lock), a worker can hang forever on a copy of a lock
        nobody will release. Here the forks happen before any carrier runs, and the
        result models are complete in this process before any later fork."""
        exercise = self.course.exercises[0]
        with tempfile.TemporaryDirectory(prefix="grade-serve-warm-") as folder:
            path = Path(folder) / Path(exercise.file).name
            path.write_bytes(b"")
            try:
                for _ in executor.grade([("warm-up", exercise, path)]):
                    pass
            except WorkerError as exc:  # the carriers say so, and start the workers again
                print(f"grade serve: {exc}", file=sys.stderr)

    def restart(self, broken: Executor) -> None:
        """A new executor in place of `broken` (a dead worker pool, a lost scheduler),
        once, however many threads saw it break."""
        with self.lock:
            if self.executor is not broken:
                return
            with contextlib.suppress(Exception):
                broken.__exit__(WorkerError, None, None)
            # Spawned, not forked: this is a carrier thread, and the other threads may
            # hold locks at this moment (stderr's, as they print that the workers died;
            # a module's import lock). A forked worker would keep a copy of such a lock,
            # held forever, and hang: its jobs were renewed by the heartbeat until the
            # hard limit. A spawned worker is a new program (fork and exec at once) that
            # imports the grader afresh. Not warmed: that would wait holding the lock.
            self.executor = self._make(warm=False, method="spawn")

    def hung(self, job: Submission) -> ExerciseResult:
        """The grader fault of `job`, whose worker hung past the hard limit."""
        exercise = self.course.exercise(job.exercise)
        assert exercise is not None  # the upload was checked against the course
        failure = Failure("the grader stopped on this file (its worker hung); it is graded "
                          "again, and never counts as an attempt", ErrorKind.GRADER_FAULT)
        return self.reference.catalogue.failed(exercise, failure, time.monotonic())

    def close(self) -> None:
        """Stop the workers now, as the batch does on Ctrl-C: jobs in hand are graded
        again after a restart (their leases run out), so nothing waits for them."""
        with contextlib.suppress(Exception):
            self.executor.__exit__(KeyboardInterrupt, None, None)


class Service:
    """A dispatcher and `3 * jobs` carriers over every course's lane, until `stop()`."""

    def __init__(self, data: Path, jobs: int, dask: str | None = None,
                 hard_limit: float = 300.0, lease: float = 30.0) -> None:
        self.data = data
        self.jobs = jobs
        self.dask = dask
        self.hard_limit = timedelta(seconds=hard_limit)
        self.lease = timedelta(seconds=lease)
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.lanes: dict[int, Lane] = {}
        # three carriers per worker: while one waits for its result, the others' files
        # are already with the pool, so no worker idles while the dispatcher is busy
        # with the database (a learner's upload waits for at most these jobs)
        self.carriers = 3 * jobs
        self._stopping = threading.Event()
        self._todo: fifo.SimpleQueue[Submission] = fifo.SimpleQueue()
        self._done: fifo.SimpleQueue[queue.Outcome] = fifo.SimpleQueue()
        self._in_hand: set[str] = set()
        # job id -> (when its carrier handed it over, its lane, the executor it went to)
        self._with_workers: dict[str, tuple[float, Lane, Executor, Submission]] = {}
        self._hung: dict[str, queue.Outcome] = {}  # job id -> its grader fault, once hung
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def add(self, course_id: int, root: Path) -> None:
        lane = Lane(load_course(root / "course.yaml"), self.jobs, self.dask)
        self.lanes[course_id] = lane
        queue.regrade_stale(course_id, lane.digest)  # in the background, after learners

    def start(self) -> None:
        queue.requeue_expired()
        self._threads = [threading.Thread(target=self._carry, name=f"carrier-{n}",
                                          daemon=True) for n in range(self.carriers)]
        self._threads += [threading.Thread(target=self._dispatch, name="dispatcher",
                                           daemon=True),
                          threading.Thread(target=self._heartbeat, name="heartbeat",
                                           daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop leasing; jobs in hand are dropped, their leases run out and they are
        graded again after a restart (a result is never half-written)."""
        self._stopping.set()
        queue.arrived.set()
        for thread in self._threads:
            thread.join(timeout=1)
        for lane in self.lanes.values():
            lane.close()

    def _heartbeat(self) -> None:
        while not self._stopping.wait(self.lease.total_seconds() / 3):
            try:
                with self._lock:
                    ids = list(self._in_hand)
                if ids:
                    queue.renew(self.owner, ids, self.hard_limit, self.lease)
                self._unstick()  # first: a hung job's lease is still held, its try counted
                queue.requeue_expired()
                outage.DATABASE.over()
            except Exception as exc:  # a database that went away: the next beat tries again
                # (a dead heartbeat would never renew a lease or requeue a job again)
                outage.DATABASE.began(exc)
            finally:
                close_old_connections()

    def _unstick(self) -> None:
        """Restart each lane whose workers have held a job past the hard limit. Its lease
        is no longer renewed, so the job is graded again; restarting kills the hung
        worker, and the carriers waiting on that executor get a WorkerError and are
        free again (else they, and the lane's pool, would wait forever)."""
        limit = time.monotonic() - self.hard_limit.total_seconds()
        with self._lock:
            held = sorted(((since, job, lane, executor) for since, lane, executor, job
                           in self._with_workers.values() if since < limit),
                          key=lambda item: item[0])
            stuck: dict[int, tuple[Submission, Lane, Executor]] = {}
            for _, job, lane, executor in held:  # the oldest job of each hung executor
                stuck.setdefault(id(executor), (job, lane, executor))
            for job, lane, _ in stuck.values():
                # Most likely the file the worker hung on: its carrier stores a grader
                # fault (one try of MAX_TRIES), so a file that hangs its worker every time
                # ends as a grader fault, not in a restart every hard limit forever.
                self._hung[job.id] = queue.Outcome(job, lane.hung(job), lane.digest)
        for job, lane, executor in stuck.values():
            print(f"grade serve: submission {job.id} has been with the grading workers for "
                  f"over {self.hard_limit.total_seconds():g} s (a hung worker); starting "
                  "them again", file=sys.stderr)
            lane.restart(executor)

    def _dispatch(self) -> None:
        """Store what came back, lease what the carriers can take, sleep until woken."""
        while not self._stopping.is_set():
            queue.arrived.clear()  # before looking: an upload from now on wakes us again
            outcomes = self._finished()
            try:
                with self._lock:
                    free = self.carriers - len(self._in_hand) + len(outcomes)
                jobs = self._round(outcomes, free) if outcomes or free > 0 else []
                with self._lock:
                    self._in_hand.update(job.id for job in jobs)
                for job in jobs:
                    self._todo.put(job)
                outage.DATABASE.over()
            except Exception as exc:  # a database that went away: those jobs' leases run out
                outage.DATABASE.began(exc)
                if outcomes:
                    print(f"grade serve: {len(outcomes)} result(s) not stored; those "
                          "submissions are graded again", file=sys.stderr)
                self._stopping.wait(POLL)
            finally:
                with self._lock:
                    self._in_hand.difference_update(o.job.id for o in outcomes)
                close_old_connections()
            self._gather()

    def _round(self, outcomes: list[queue.Outcome], free: int) -> list[Submission]:
        """Store `outcomes` and lease up to `free` jobs: one commit (one sync of the log)."""
        stored: list[bool] = []
        with queue.WRITING, transaction.atomic():
            if outcomes and not self._stopping.is_set():
                stored = queue.finish_many(self.owner, outcomes)
            jobs = queue.lease_many(self.owner, free, self.lease) if free > 0 else []
        waiting.verdicts.tell(o.job.id for o, ok in zip(outcomes, stored) if ok)
        return jobs

    def _gather(self) -> None:
        """Sleep until woken, then, while few carriers are free, up to GATHER more: under
        load results come back one at a time, and a round for each would be a commit
        each. The carriers still in hand keep the workers busy meanwhile (each worker
        has two more files queued at its pool)."""
        queue.arrived.wait(POLL)
        until = time.monotonic() + GATHER
        while not self._stopping.is_set() and self._free() < max(1, self.carriers // 2):
            left = until - time.monotonic()
            if left <= 0:
                return
            queue.arrived.clear()
            queue.arrived.wait(left)

    def _free(self) -> int:
        """Carriers free at the next round (those whose results wait count as free)."""
        with self._lock:
            return self.carriers - len(self._in_hand) + self._done.qsize()

    def _finished(self) -> list[queue.Outcome]:
        """Every result the carriers have finished so far."""
        outcomes: list[queue.Outcome] = []
        with contextlib.suppress(fifo.Empty):
            while True:
                outcomes.append(self._done.get_nowait())
        return outcomes

    def _carry(self) -> None:
        while not self._stopping.is_set():
            try:
                job = self._todo.get(timeout=POLL)
            except fifo.Empty:
                continue
            try:
                outcome = self._grade(job)
            except Exception as exc:  # a lost upload, a full disk: never a dead carrier
                print(f"grade serve: submission {job.id} could not be graded now "
                      f"({type(exc).__name__}: {exc}); it is tried again later", file=sys.stderr)
                outcome = None
            if outcome is None:  # its lease runs out and it is graded again
                with self._lock:
                    self._in_hand.discard(job.id)
            else:
                self._done.put(outcome)
            queue.arrived.set()  # a carrier is free: the dispatcher leases again

    def _grade(self, job: Submission) -> queue.Outcome | None:
        lane = self.lanes[job.course_id]
        exercise = lane.course.exercise(job.exercise)
        assert exercise is not None  # the upload was checked against the course
        folder = self.data / "work" / job.id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(exercise.file).with_suffix(job.suffix).name
        executor = lane.executor
        try:
            path.write_bytes(store.get(self.data, job.sha256))
            with self._lock:
                self._with_workers[job.id] = time.monotonic(), lane, executor, job
            for _, result, worker in executor.grade([(job.id, exercise, path)]):
                return queue.Outcome(job, result, lane.digest,
                                     f"{worker.worker} ({worker.level})" if worker else "")
        except (WorkerError, CancelledError) as exc:  # cancelled: its executor was restarted
            if not self._stopping.is_set():
                # The job's lease runs out and it is graded again; the workers start afresh.
                print(f"grade serve: {exc or 'the grading workers were stopped'}; starting "
                      "the grading workers again",
                      file=sys.stderr)
                lane.restart(executor)
            with self._lock:  # the grader fault `_unstick` made, if it was this job
                return self._hung.pop(job.id, None)
        finally:
            with self._lock:
                self._with_workers.pop(job.id, None)
                self._hung.pop(job.id, None)
            shutil.rmtree(folder, ignore_errors=True)
        return None
