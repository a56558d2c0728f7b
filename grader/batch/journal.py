"""Durable results: an append-only JSON Lines file, one fsync'ed line per result.

A batch killed at any moment loses at most the line being written; reading
skips a torn or corrupt line (that result is simply graded again). A lock keeps
two batches from writing one OUTDIR at the same time.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from grader.atomic import write_atomic
from grader.locks import lock_file
from grader.models import Model
from grader.results import ExerciseResult, WorkerInfo

Key = tuple[str, str]  # (student, exercise)


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

    def __exit__(self, *exc: object) -> None:
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
        """The latest entry per (student, exercise); sets `lines` to the lines read."""
        entries, self.lines = read_entries(self.path)
        return entries

    def append(self, entry: Entry) -> None:
        """Write one entry and make it durable before returning (OSError if it cannot be:
        the partial line is cut off when the journal is next opened)."""
        data = memoryview(entry.model_dump_json().encode() + b"\n")
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)

    def compact(self, entries: dict[Key, Entry]) -> None:
        """Rewrite the journal as exactly `entries` (atomic: a kill or a full disk keeps
        the old file, and no temporary file)."""
        write_atomic(self.path, b"".join(e.model_dump_json().encode() + b"\n"
                                         for e in entries.values()), durable=True)
        os.close(self._fd)
        self._open()
