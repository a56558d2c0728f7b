"""The grading service: threads that lease jobs and grade them on the batch's executor.

Each course gets one executor (the batch's warm worker processes, or a Dask cluster
through the batch's `DaskPool`), entered once for the server's life. A thread per
worker leases a job, writes the file under the course's own file name (never the
learner's) and hands it to the executor; a heartbeat thread renews its leases.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from django.db import close_old_connections

from grader.batch.cluster import dask_pool
from grader.batch.executor import Executor, WorkerError
from grader.batch.fingerprint import exercises_digest
from grader.batch.pool import WorkerPool
from grader.course import Course
from grader.course.load import load_course
from grader.runner import Grader
from grader.sandbox.client import Sandbox
from grader.server import queue, store
from grader.server.models import Submission

POLL = 0.05  # seconds between looks at an empty queue


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

    def _make(self) -> Executor:
        executor = (dask_pool(self.dask)(self.reference, self.jobs) if self.dask
                    else WorkerPool(self.course, self.jobs))
        executor.__enter__()
        return executor

    def restart(self, broken: Executor) -> None:
        """A new executor in place of `broken` (a dead worker pool, a lost scheduler),
        once, however many threads saw it break."""
        with self.lock:
            if self.executor is not broken:
                return
            with contextlib.suppress(Exception):
                broken.__exit__(WorkerError, None, None)
            self.executor = self._make()

    def close(self) -> None:
        """Stop the workers now, as the batch does on Ctrl-C: jobs in hand are graded
        again after a restart (their leases run out), so nothing waits for them."""
        with contextlib.suppress(Exception):
            self.executor.__exit__(KeyboardInterrupt, None, None)


class Service:
    """`jobs` grading threads over every course's lane, until `stop()`."""

    def __init__(self, data: Path, jobs: int, dask: str | None = None,
                 hard_limit: float = 300.0, lease: float = 30.0) -> None:
        self.data = data
        self.jobs = jobs
        self.dask = dask
        self.hard_limit = timedelta(seconds=hard_limit)
        self.lease = timedelta(seconds=lease)
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.lanes: dict[int, Lane] = {}
        self._stopping = threading.Event()
        self._in_hand: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def add(self, course_id: int, root: Path) -> None:
        lane = Lane(load_course(root / "course.yaml"), self.jobs, self.dask)
        self.lanes[course_id] = lane
        queue.regrade_stale(course_id, lane.digest)  # in the background, after learners

    def start(self) -> None:
        queue.requeue_expired()
        # two threads per worker: while one waits for its result, the other has leased the
        # next job and handed it to the pool, so no worker idles between jobs
        self._threads = [threading.Thread(target=self._grade_loop, name=f"grader-{n}",
                                          daemon=True) for n in range(2 * self.jobs)]
        self._threads.append(threading.Thread(target=self._heartbeat, name="heartbeat",
                                              daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop leasing; jobs in hand are dropped, their leases run out and they are
        graded again after a restart (a result is never half-written)."""
        self._stopping.set()
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
                queue.requeue_expired()
            finally:
                close_old_connections()

    def _grade_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job = queue.lease(self.owner, self.lease)
                if job is None:
                    self._stopping.wait(POLL)
                    continue
                with self._lock:
                    self._in_hand.add(job.id)
                try:
                    self._grade(job)
                finally:
                    with self._lock:
                        self._in_hand.discard(job.id)
            finally:
                close_old_connections()

    def _grade(self, job: Submission) -> None:
        lane = self.lanes[job.course_id]
        exercise = lane.course.exercise(job.exercise)
        assert exercise is not None  # the upload was checked against the course
        folder = self.data / "work" / job.id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(exercise.file).with_suffix(job.suffix).name
        executor = lane.executor
        try:
            path.write_bytes(store.get(self.data, job.sha256))
            for _, result, worker in executor.grade([(job.id, exercise, path)]):
                if not self._stopping.is_set():
                    queue.finish(job, self.owner, result, lane.digest,
                                 f"{worker.worker} ({worker.level})" if worker else "")
        except WorkerError as exc:
            if self._stopping.is_set():
                return
            # The job's lease runs out and it is graded again; the workers start afresh.
            print(f"grade serve: {exc}; starting the grading workers again", file=sys.stderr)
            lane.restart(executor)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
