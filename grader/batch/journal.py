"""Durable results: an append-only JSON Lines file, one fsync'ed line per result.

A batch killed at any moment loses at most the line being written; reading
skips a torn or corrupt line (that result is simply graded again). A lock keeps
two batches from writing one OUTDIR at the same time.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from grader.results import ExerciseResult

Key = tuple[str, str]  # (student, exercise)


class JournalBusy(Exception):
    """Another process holds the journal."""


class Entry(BaseModel):
    """One graded submission, with the fingerprint of what it was graded from."""

    student: str
    exercise: str
    fingerprint: str
    result: ExerciseResult

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


def lock_exclusively(fd: int) -> bool:
    """Lock the open file `fd` until it is closed; False if another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: the same lock, spelled by msvcrt
        try:
            import msvcrt
        except ImportError:
            return True  # neither (no real OS): one batch per OUTDIR is then up to the user
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Journal:
    """The open journal of one OUTDIR (a context manager that holds its lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = -1
        self._fd = -1
        self.lines = 0

    def __enter__(self) -> Journal:
        self._lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        if not lock_exclusively(self._lock):
            os.close(self._lock)
            raise JournalBusy(f"another `grade batch` is writing {self.path.parent}") from None
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
        os.close(self._lock)

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        size = os.fstat(self._fd).st_size
        if size:  # a kill mid-write leaves a line without its newline: end it
            with self.path.open("rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def read(self) -> dict[Key, Entry]:
        """The latest entry per (student, exercise); sets `lines` to the lines read."""
        entries, self.lines = read_entries(self.path)
        return entries

    def append(self, entry: Entry) -> None:
        """Write one entry and make it durable before returning."""
        os.write(self._fd, entry.model_dump_json().encode() + b"\n")
        os.fsync(self._fd)

    def compact(self, entries: dict[Key, Entry]) -> None:
        """Rewrite the journal as exactly `entries` (atomic: a kill keeps the old file)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as f:
            f.writelines(e.model_dump_json().encode() + b"\n" for e in entries.values())
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        os.close(self._fd)
        self._open()
