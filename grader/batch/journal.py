"""Durable results: an append-only JSON Lines file, one line per result, fsync'ed in groups.

What a crash can lose (that result is simply graded again on the next run):
- the batch process killed at any moment (SIGKILL, Ctrl-C, out of memory): at most the
  line being written; every line written before is in the kernel's hands;
- the machine itself (power, kernel panic): at most the results of the last
  SYNC_SECONDS before it, never one acknowledged by an fsync (each fsync covers every
  line before it: the file is append-only). Reading the journal back starts an fsync
  of every line so far in a thread (the batch assembles and exports meanwhile);
  closing it waits for that fsync and makes the rest durable: once the journal is
  closed, nothing graded is lost even to a machine crash. An export written meanwhile
  may reach the disk before those lines: after a machine crash, their results are
  graded again and the exports rewritten from them.
Reading skips a torn or corrupt line. A lock keeps two batches from writing one
OUTDIR at the same time.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from pydantic import ValidationError

from grader.atomic import write_atomic
from grader.batch.lean import lighten
from grader.locks import lock_file
from grader.models import Model
from grader.results import ExerciseResult, WorkerInfo

Key = tuple[str, str]  # (student, exercise)
# One fsync per result cost a disk flush per file (40 for a class of 40); one per
# SYNC_SECONDS bounds what a machine crash can lose to the results of that long.
SYNC_SECONDS = 0.5
# The results a batch keeps until its exports are lightened (batch/lean.py) this many at
# a time: at 1000 x 3 the memory is the same, and a class of 40 (0.3 MiB more) spends
# no time on it (110 us a result, in this process while the workers grade).
LIGHTEN_EVERY = 128


class JournalBusy(Exception):
    """Another process holds the journal."""


class Entry(Model):
    """One graded submission, with the fingerprint of what it was graded from."""

    student: str
    exercise: str
    fingerprint: str
    result: ExerciseResult
    worker: WorkerInfo | None = None  # None: no code ran (e.g. a missing file)

    @property
    def key(self) -> Key:
        return self.student, self.exercise


def read_entries(path: Path) -> tuple[dict[Key, Entry], int]:
    """The latest entry per (student, exercise), and the number of lines read.

    Unreadable lines are skipped.
    """
    entries: dict[Key, Entry] = {}
    lines = 0
    if not path.exists():
        return entries, lines
    with path.open("rb") as f:
        for lines, line in enumerate(f, 1):  # noqa: B007  (lines counts them)
            try:
                entry = Entry.model_validate_json(line)
            except ValidationError:
                continue  # torn by a kill mid-write: graded again
            lighten(entry)  # now, not after the loop: the next line reuses what it frees
            entries[entry.key] = entry
    return entries, lines


def _end_of_last_line(path: Path, chunk: int = 1 << 16) -> int:
    """The size of `path` without a torn last line: just past its last newline."""
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(0, position - chunk)
            f.seek(start)
            block = f.read(position - start)
            if block.endswith(b"\n") and position == end:
                return end
            newline = block.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            position = start
        return 0


class Journal:
    """The open journal of one OUTDIR (a context manager that holds its lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = -1
        self._fd = -1
        self.lines = 0
        # What the file holds, once read: this process holds the lock, so it is the
        # only writer and need not read (and validate) back what it appended itself.
        self._entries: dict[Key, Entry] | None = None
        self._heavy: list[Entry] = []  # appended to `_entries`, not yet lightened
        self._synced = time.monotonic()
        self._unsynced = False
        self._behind: threading.Thread | None = None  # `read`'s fsync, running
        self._failed: OSError | None = None  # what that fsync raised, raised at `settle`

    def __enter__(self) -> Journal:
        self._lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        if not lock_file(self._lock, wait=False):
            os.close(self._lock)
            raise JournalBusy(f"another `grade batch` is writing {self.path.parent}") from None
        try:
            self._open()
        except BaseException:  # the lock must not outlive a failed open
            os.close(self._lock)
            raise
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if self._fd >= 0:
                # A batch already failing (a full disk) reports that, not this fsync's error.
                with contextlib.suppress(*((OSError,) if exc_type else ())):
                    self.settle()
                    self.sync()
        finally:
            if self._behind is not None:  # interrupted while waiting: its fd is closed next
                self._behind.join()
            if self._fd >= 0:
                os.close(self._fd)
            os.close(self._lock)

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        # A kill or a full disk mid-write leaves a line without its newline: cut it
        # off (it cannot be read anyway; that result is graded again). Cutting needs
        # no free space, so a rerun on a still-full disk gets as far as grading.
        os.ftruncate(self._fd, _end_of_last_line(self.path))

    def read(self) -> dict[Key, Entry]:
        """The latest entry per (student, exercise); `lines` is the lines in the file.

        The file is read once; later calls add what this journal appended since (a
        batch reads its results back to assemble them once graded), whose fsync runs
        behind, in a thread: the batch assembles and exports while the disk flushes
        (4-15 ms here), and closing the journal waits for it."""
        self._sync_behind()
        if self._entries is None:
            self._entries, self.lines = read_entries(self.path)
        return dict(self._entries)

    def forget(self) -> None:
        """Drop what `read` keeps of the file (the next `read` reads it again)."""
        self._entries = None
        self._heavy.clear()

    def append(self, entry: Entry) -> None:
        """Write one entry (OSError if it cannot be: the partial line is cut off when
        the journal is next opened); fsync if the last fsync is SYNC_SECONDS old."""
        data = memoryview(entry.model_dump_json().encode() + b"\n")
        while data:
            data = data[os.write(self._fd, data):]
        self._unsynced = True
        if self._entries is not None:  # kept until the exports, with every other result
            self._entries[entry.key] = entry
            self.lines += 1
            self._heavy.append(entry)
            if len(self._heavy) >= LIGHTEN_EVERY:
                for held in self._heavy:
                    lighten(held)
                self._heavy.clear()
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        """Make every line written so far durable (`read`'s fsync aside: `settle`)."""
        if self._unsynced:
            os.fsync(self._fd)
            self._unsynced = False
        self._synced = time.monotonic()

    def _sync_behind(self) -> None:
        """Start an fsync of every line written so far, in a thread (`settle` joins it)."""
        self.settle()
        if not self._unsynced:
            return
        self._unsynced = False
        self._synced = time.monotonic()
        self._behind = threading.Thread(target=self._fsync, args=(self._fd,),
                                        name="journal-fsync", daemon=True)
        self._behind.start()

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            self._failed = exc

    def settle(self) -> None:
        """Wait for `read`'s fsync; raise what it raised."""
        if self._behind is not None:
            self._behind.join()
            self._behind = None
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def compact(self, entries: dict[Key, Entry]) -> None:
        """Rewrite the journal as exactly `entries` (atomic: a kill or a full disk keeps
        the old file, and no temporary file)."""
        self.settle()  # its fsync holds the file's descriptor, closed below
        write_atomic(self.path, b"".join(e.model_dump_json().encode() + b"\n"
                                         for e in entries.values()), durable=True)
        os.close(self._fd)
        self._open()
        self._entries, self.lines, self._unsynced = dict(entries), len(entries), False
