"""Reading and writing the progress file: atomic, locked, and never a reason to crash.

The file lives in `.grade/` inside the course folder, next to a `.gitignore` of its
own so that git never tracks it, whatever the course's own ignore rules say.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from grader.atomic import write_atomic
from grader.locks import lock_file
from grader.progress.state import VERSION, Progress

FOLDER = ".grade"
NAME = "progress.json"
# Far above any real course's progress (a few KB): a larger file is not ours to read whole.
MAX_BYTES = 4 * 1024 * 1024


class ProgressStore:
    """The progress file of one course folder.

    A file that is corrupt, of another version or unreadable is ignored with a
    note (and kept aside as progress.json.ignored when replaced). A folder that
    cannot be written keeps progress in memory for this run only, with a note.
    """

    def __init__(self, course_root: Path) -> None:
        self.folder = course_root / FOLDER
        self.path = self.folder / NAME
        self.notes: list[str] = []
        # In memory only: once the folder proved unwritable, or with GRADE_PROGRESS=off
        # (scripts and test suites that must not read or leave a learner's progress).
        self._memory: Progress | None = Progress() if os.environ.get(
            "GRADE_PROGRESS") == "off" else None
        self._ignored = False  # the file on disk was unusable: set it aside on first write

    def load(self) -> Progress:
        """The saved progress, or empty progress (with a note) when it cannot be used."""
        if self._memory is not None:
            return self._memory.model_copy(deep=True)
        try:
            text = read_regular(self.path, MAX_BYTES).decode("utf-8")
        except FileNotFoundError:
            return Progress()
        except NotRegular as exc:
            return self._unusable(exc.strerror or "is not a regular file")
        except (OSError, UnicodeDecodeError) as exc:
            return self._unusable(f"cannot be read ({type(exc).__name__})")
        try:
            return Progress.model_validate_json(text)
        except ValidationError as exc:
            version = _version_of(text)
            if version is not None and version != VERSION:
                return self._unusable(f"is from another version of grade (version {version})")
            reason = "is not valid JSON" if _is_json_error(exc) else "has unexpected content"
            return self._unusable(reason)

    def update(self, change: Callable[[Progress], None]) -> Progress:
        """Load, apply `change`, save atomically under a lock; returns the new progress."""
        if self._memory is not None:
            change(self._memory)
            return self._memory
        try:
            with self._locked():
                progress = self.load()
                change(progress)
                self._write(progress)
                return progress
        except OSError as exc:
            self.notes.append(f"progress not saved: cannot write {self.path} "
                              f"({exc.strerror or type(exc).__name__}); `grade status` and "
                              "hints will not remember this run")
            progress = self.load()
            change(progress)
            self._memory = progress
            return progress

    def _unusable(self, reason: str) -> Progress:
        if not self._ignored:
            self.notes.append(f"ignored the progress file {self.path}: it {reason}; "
                              "grading is not affected, and it will be replaced")
        self._ignored = True
        return Progress()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write between graders of one course (watch + a run)."""
        self.folder.mkdir(exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# grade's local progress: never part of the course\n*\n")
        with open_regular(self.folder / "lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND) as lock:
            lock_file(lock, wait=True)
            yield

    def _write(self, progress: Progress) -> None:
        """Write to a temporary file beside the target, then rename: never half a file."""
        if self._ignored and self.path.exists():
            os.replace(self.path, self.path.with_name(NAME + ".ignored"))
            self._ignored = False
        write_atomic(self.path, progress.model_dump_json(indent=1), durable=True)


class NotRegular(OSError):
    """The path is a FIFO, a device, a folder...: reading it could block or never end."""


@contextlib.contextmanager
def open_regular(path: Path, flags: int) -> Iterator[int]:
    """A descriptor on `path` that never blocks on opening (a FIFO with no writer, a
    device) and is a regular file; anything else raises `NotRegular`."""
    # O_NONBLOCK: opening a FIFO blocks until its other end opens, forever for a learner
    # whose .grade/ was tampered with; on a regular file the flag changes nothing.
    fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0), 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(errno.EINVAL, "is not a regular file (a FIFO, a device or a "
                                           "folder?)", str(path))
        yield fd
    finally:
        os.close(fd)


def read_regular(path: Path, limit: int) -> bytes:
    """`path`'s bytes, if it is a regular file of at most `limit` bytes."""
    with open_regular(path, os.O_RDONLY) as fd:
        data = b""
        while len(data) <= limit:
            chunk = os.read(fd, limit + 1 - len(data))
            if not chunk:
                return data
            data += chunk
    raise NotRegular(errno.EFBIG, f"is larger than {limit:,} bytes", str(path))


def _version_of(text: str) -> object:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("version") if isinstance(data, dict) else None


def _is_json_error(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors())
