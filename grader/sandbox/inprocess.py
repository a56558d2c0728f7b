"""A `Host` in this very process, behind the same `Channel` contract as a box.

No isolation at all: for nbgrader's kernel (nbgrader trusts the kernel) and for the
benchmark's lower bound (what checks cost without a box). A time limit needs the
main thread (SIGALRM, or a Watchdog on Windows); elsewhere nothing is timed.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from grader.sandbox.channel import BoxLimits, Reply
from grader.sandbox.client import BoxStopped
from grader.sandbox.host import Host, on_alarm


class InProcess:
    """One learner module in a fresh `Host`, answered in this process."""

    def __init__(self, seconds: float | None = None, output_limit: int = 64_000) -> None:
        self.host = Host(output_limit)
        self.output: list[str] = []
        self._seconds = seconds
        self._deadline = None if seconds is None else time.monotonic() + seconds

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.host.namespace = {}  # the learner's module goes with the channel

    def request(self, op: str, **fields: Any) -> Reply:
        if self._deadline is not None:  # at least 1 ms: 0 would mean "no timer" to Host
            fields["seconds"] = max(0.001, self._deadline - time.monotonic())
        reply = self.host.handle({"op": op, **fields})
        if reply.get("stdout"):
            self.output.append(reply["stdout"])
        error = reply.get("error")
        if error is not None and error.get("kind") == "timeout":
            raise BoxStopped.timeout(self._seconds, error.get("line"))
        return reply


class InProcessBoxes:
    """`Boxes` whose channels are `InProcess` hosts, timed when on the main thread."""

    def __init__(self, timed: bool = True) -> None:
        self.timed = timed and threading.current_thread() is threading.main_thread()
        if self.timed and hasattr(signal, "SIGALRM"):  # else (Windows) a Watchdog times it
            signal.signal(signal.SIGALRM, on_alarm)

    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> InProcess:
        return InProcess(seconds if self.timed else None, max(limits["output_chars"], 1))
