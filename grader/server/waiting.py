"""Long polls: a learner's look at a submission waits, a bounded time, for its verdict.

Without them every waiting learner asks again and again (each look an HTTP request, a
token check and queries); with them one look returns the moment this process stores
the verdict. Each waiting look holds one of the HTTP threads, so only `slots` wait at
once: a look beyond them is answered at once, and `grade submit` then sleeps as it did.
A verdict stored by another server on the same database is seen when the wait runs out.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

MAX_WAIT = 10.0  # seconds a look may wait, whatever it asks


class Verdicts:
    """Which submissions are being waited for, and the waiters to wake."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._waiting: dict[str, list[threading.Event]] = {}
        self._count = 0
        self.closed = False

    @contextlib.contextmanager
    def watch(self, ident: str) -> Iterator[threading.Event | None]:
        """An event set when `ident`'s verdict is stored from now on; None when every
        slot is taken (then the look does not wait)."""
        with self._lock:
            if self._count >= self.slots or self.closed:
                event = None
            else:
                event = threading.Event()
                self._count += 1
                self._waiting.setdefault(ident, []).append(event)
        try:
            yield event
        finally:
            if event is not None:
                with self._lock:
                    self._count -= 1
                    events = self._waiting[ident]
                    events.remove(event)
                    if not events:
                        del self._waiting[ident]

    def tell(self, idents: Iterable[str]) -> None:
        """Wake whoever waits for one of `idents` (their results are committed)."""
        with self._lock:
            for ident in idents:
                for event in self._waiting.get(ident, ()):
                    event.set()


    def wake_all(self) -> None:
        """Answer every waiting look now, and let none wait from now on (the server is
        stopping)."""
        with self._lock:
            self.closed = True
            for events in self._waiting.values():
                for event in events:
                    event.set()


verdicts = Verdicts(slots=8)  # set from the HTTP threads by `grade serve` (run.py)


def asked(text: str | None) -> float:
    """The seconds a look asks to wait (?wait=S), within [0, MAX_WAIT]; 0 if unreadable."""
    try:
        seconds = float(text or 0)
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), MAX_WAIT) if seconds == seconds else 0.0  # NaN: 0
