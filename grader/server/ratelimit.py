"""Uploads per learner per minute, counted in memory: the database is asked once per
learner and process (for the uploads of the last minute before it started), not at
every upload."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import timedelta

from grader.server import reads
from grader.server.models import Learner
from grader.server.queue import now

RATE = 30  # uploads per learner per minute: a loop in a learner's script cannot flood the queue
WINDOW = 60.0


class Limiter:
    """Each learner's uploads of the last WINDOW seconds, as monotonic times."""

    def __init__(self, rate: int = RATE, window: float = WINDOW) -> None:
        self.rate = rate
        self.window = window
        self._lock = threading.Lock()
        self._times: dict[int, deque[float]] = {}

    def admit(self, learner: Learner) -> bool:
        """Whether `learner` may upload once more now; if so, that upload is counted."""
        times = self._times.get(learner.id)
        if times is None:
            times = self._seed(learner)
        moment = time.monotonic()
        with self._lock:
            while times and times[0] <= moment - self.window:
                times.popleft()
            if len(times) >= self.rate:
                return False
            times.append(moment)
            return True

    def _seed(self, learner: Learner) -> deque[float]:
        """The learner's uploads of the last minute, from the database (a restart
        forgets nothing of the limit)."""
        moment, clock = now(), time.monotonic()
        received = reads.received_since(learner.id, moment - timedelta(seconds=self.window))
        times = deque(sorted(clock - (moment - at).total_seconds() for at in received))
        with self._lock:
            return self._times.setdefault(learner.id, times)


limiter = Limiter()
